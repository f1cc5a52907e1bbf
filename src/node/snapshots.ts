import { crc32c } from '../codec/crc32c.js';
import {
  RaftError,
  entryPayload,
  type Entry,
  type NodeId,
  type RaftCore,
  type RaftMessage,
  type Ready,
  type SnapshotMeta,
} from '../core/index.js';
import type { LogStorage, StoredSnapshot } from '../storage/log-storage.js';
import type { Clock } from '../platform/clock.js';
import type { NodeCounters } from './node-counters.js';
import { wrapStorage } from './node-errors.js';
import type { RaftNodeEvents } from './node-events.js';
import type { SnapshotOptions } from './node-options.js';
import { SnapshotChecksum } from './snapshot-checksum.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import { SnapshotSender } from './snapshot-sender.js';
import { takeSessionSection, withSessionSection } from './session-snapshot.js';
import type { SessionTable } from './session-table.js';
import type { ResultCodec, StateMachine } from './state-machine.js';

/** What the snapshot machinery needs from its node. */
export interface SnapshotHost {
  readonly id: NodeId;
  readonly snapshots: SnapshotOptions;
  readonly storage: LogStorage;
  readonly stateMachine: StateMachine<unknown, unknown, unknown>;
  readonly transport: { send(message: RaftMessage): void };
  readonly clock: Clock;
  readonly counters: NodeCounters;
  /** Where applying stands; `restore` says the state machine now holds exactly up to an index. */
  readonly applier: {
    readonly appliedIndex: number;
    readonly sessions: SessionTable;
    restore(index: number): void;
  };
  /** Encodes the session table's results into snapshots and reads them back. */
  readonly resultCodec: ResultCodec<unknown>;
  readonly events: {
    publish(event: 'snapshot', payload: RaftNodeEvents['snapshot']): void;
  };
  /** Callers waiting for entries up to `index` stop: an installed snapshot skipped them here. */
  skippedThrough(index: number): void;
  core(): RaftCore | null;
  /** Runs the Ready loop soon: maintenance waits for it. */
  schedule(): void;
  fail(error: RaftError): void;
}

/**
 * Reads a published snapshot as a stream of chunks, for `restore`. The stream ends by checking the
 * whole against the checksum it was published with, and fails with `CORRUPT_STORAGE` when they
 * differ: data damaged at rest is refused before the state machine finishes restoring from it,
 * where the state machine's own checks would at best catch damage to its framing.
 */
export async function* readSnapshotChunks(
  storage: LogStorage,
  stored: StoredSnapshot,
  chunkBytes: number,
): AsyncGenerator<Uint8Array> {
  const { index } = stored.meta;
  const checksum = new SnapshotChecksum(stored);
  for (let offset = 0; offset < stored.bytes;) {
    const chunk = await wrapStorage(() => storage.readSnapshot(index, offset, chunkBytes));
    if (chunk === null || chunk.byteLength === 0) {
      throw new RaftError('STORAGE_FAILED', `snapshot ${index} went away while read`);
    }
    checksum.add(offset, chunk);
    offset += chunk.byteLength;
    yield chunk;
  }
  checksum.verify();
}

/**
 * Snapshots on one node: taking them (by policy or on demand), compacting the log behind them,
 * installing the ones a leader sends, and sending them to followers. Everything that touches the
 * log or the state machine runs inside the Ready loop (`maintain`), between two Ready values, so
 * it never races a log write or an apply; only the snapshot data's own writes run beside it.
 */
export class Snapshots {
  readonly #host: SnapshotHost;
  readonly sender: SnapshotSender;
  readonly receiver: SnapshotReceiver;
  #entriesSince = 0;
  #bytesSince = 0;
  /** Set while a snapshot's data is being written. */
  #writing: Promise<StoredSnapshot> | null = null;
  #requests: { resolve(stored: StoredSnapshot): void; reject(error: unknown): void }[] = [];
  #compactTo = 0;
  #install: { stored: StoredSnapshot; from: NodeId; durationMs: number } | null = null;

  constructor(host: SnapshotHost) {
    this.#host = host;
    const now = () => host.clock.now();
    this.sender = new SnapshotSender({
      id: host.id,
      options: host.snapshots,
      now,
      leaderTerm: () => {
        const core = host.core();
        return core?.role === 'leader' ? core.term : null;
      },
      wanted: (to, index) => host.core()?.isSendingSnapshot(to, index) === true,
      holds: (to, index) => {
        const progress = host.core()?.status().progress ?? [];
        return progress.some((peer) => peer.id === to && peer.match >= index);
      },
      failed: (to, index) => {
        host.core()?.reportSnapshotFailed(to, index);
        host.schedule();
      },
      available: (snapshot) => host.core()?.snapshotAvailable(snapshot),
      latest: () => host.storage.latestSnapshot(),
      read: (index, offset, bytesMax) => host.storage.readSnapshot(index, offset, bytesMax),
      send: (chunk) => {
        host.counters.snapshotBytesSent += chunk.data.byteLength;
        host.transport.send({
          type: 'install-snapshot',
          from: host.id,
          ...chunk,
          done: chunk.offset + chunk.data.byteLength === chunk.totalBytes,
        });
      },
      sent: (to, stored, durationMs) => {
        host.counters.snapshotsSent++;
        this.#publish('sent', stored, durationMs, to);
      },
    });
    this.receiver = new SnapshotReceiver({
      now,
      queuedChunksMax: host.snapshots.chunksInflightMax * 2,
      create: (meta) => host.storage.createSnapshot(meta),
      latest: () => host.storage.latestSnapshot(),
      respond: (chunk, bytesReceived, success) =>
        host.transport.send({
          type: 'install-snapshot-response',
          term: host.core()?.term ?? chunk.term,
          from: host.id,
          to: chunk.from,
          snapshotIndex: chunk.snapshot.index,
          bytesReceived,
          success,
        }),
      complete: (stored, from, durationMs) => {
        this.#install = { stored, from, durationMs };
        host.schedule();
      },
      rejected: () => host.counters.messagesRejected++,
    });
  }

  /** Whether the state machine can snapshot and restore; without it the log is never compacted. */
  get enabled(): boolean {
    const machine = this.#host.stateMachine;
    return machine.snapshot !== undefined && machine.restore !== undefined;
  }

  /** Whether `maintain` has work waiting. */
  get pending(): boolean {
    const core = this.#host.core();
    return (
      this.#install !== null ||
      (this.#writing === null && (this.#requests.length > 0 || this.#due())) ||
      (core !== null && this.#compactTo > core.snapshotIndex)
    );
  }

  /** Counts applied entries toward the automatic policy. */
  onApplied(entries: readonly Entry[]): void {
    this.#entriesSince += entries.length;
    // The bytes are read only by the policy, which a state machine without snapshots never runs;
    // the loop over every applied entry on every server was about 2% of the in-process time.
    if (!this.enabled) return;
    for (const entry of entries) {
      this.#bytesSince += entryPayload(entry)?.byteLength ?? 0;
    }
  }

  /** Takes a snapshot now (or joins the one being taken) and resolves once it is published. */
  request(): Promise<StoredSnapshot> {
    if (!this.enabled) {
      return Promise.reject(
        new RaftError('INVALID_CONFIG', 'the state machine has no snapshot() and restore()'),
      );
    }
    if (this.#writing !== null) return this.#writing;
    const promise = new Promise<StoredSnapshot>((resolve, reject) =>
      this.#requests.push({ resolve, reject }),
    );
    this.#host.schedule();
    return promise;
  }

  /** Routes a Ready's snapshot work: transfers to start, chunks to store, acknowledgements. */
  onReady(ready: Ready): void {
    for (const transfer of ready.snapshotTransfers) this.#background(this.sender.start(transfer));
    for (const message of ready.snapshotMessages) {
      if (message.type === 'install-snapshot') this.#background(this.receiver.receive(message));
      else this.#background(this.sender.onResponse(message));
    }
  }

  /**
   * Runs waiting work; called by the Ready loop between two Ready values. Says whether the core
   * then has a Ready to hand out, so the loop reads as one condition: at once when there is no
   * snapshot work (nearly every pass), so such a pass takes no microtask hop here.
   */
  maintain(core: RaftCore): boolean | Promise<boolean> {
    if (this.sender.activeCount === 0 && !this.pending) return core.hasReady();
    return this.#maintain(core);
  }

  async #maintain(core: RaftCore): Promise<boolean> {
    // Every tick runs a pass, so stalled transfers are noticed here too.
    if (this.sender.activeCount > 0) this.#background(this.sender.onTick());
    if (this.#install !== null) await this.#installNow(core);
    if (this.#writing === null && (this.#requests.length > 0 || this.#due())) this.#capture(core);
    await this.#compactBehindSnapshots(core);
    return core.hasReady();
  }

  /** Drops the log behind the newest snapshot's trailing window, once it is durable and applied. */
  async #compactBehindSnapshots(core: RaftCore): Promise<void> {
    const compactTo = Math.min(this.#compactTo, core.stableIndex, this.#host.applier.appliedIndex);
    if (compactTo <= core.snapshotIndex) return;
    await wrapStorage(() => this.#host.storage.compact(core.snapshotMeta(compactTo)));
    core.compact(compactTo);
  }

  /**
   * Counts and announces a snapshot written for `index`, and moves the compaction target behind
   * it. Storage may have kept a different one (a leader's, installed meanwhile): that one is not
   * this node's to announce. Returns whether it was recorded.
   */
  #recordTaken(stored: StoredSnapshot, index: number, startedMs: number): boolean {
    const host = this.#host;
    if (stored.meta.index !== index) return false;
    host.counters.snapshotsTaken++;
    this.#publish('taken', stored, host.clock.now() - startedMs, null);
    host.core()?.snapshotAvailable(stored.meta);
    this.#compactTo = Math.max(
      this.#compactTo,
      trailingWindowStart(host.core(), index, host.snapshots),
    );
    return true;
  }

  /**
   * A graceful stop, once the loop is idle: when `stopEntriesMin` entries were applied since the
   * last snapshot, takes one; either way compacts behind the newest snapshot, so the next start
   * restores the state rather than replaying those entries. A snapshot that was still being
   * written when the stop began is compacted behind here too: the loop that would have done it
   * has stopped, and without this its whole log stayed on disk and was read at the next start. A
   * failure here only costs that replay: the log still holds everything and the previous snapshot
   * is intact, so it is swallowed and the stop goes on.
   */
  async onStop(core: RaftCore | null): Promise<void> {
    const host = this.#host;
    await this.#writing?.catch(() => undefined);
    if (core === null || !this.enabled) return;
    try {
      const since = this.#entriesSince;
      if (since > 0 && since >= host.snapshots.stopEntriesMin) {
        const index = host.applier.appliedIndex;
        const started = host.clock.now();
        this.#recordTaken(
          await this.#write(core.snapshotMeta(index), this.#source()),
          index,
          started,
        );
      }
      await this.#compactBehindSnapshots(core);
    } catch {
      // See above: the stop completes with the state the storage already holds.
    }
  }

  /**
   * The data of a snapshot at the applied index: the session table, encoded now, then the state
   * machine's capture, taken now. Every snapshot carries both, or a restart from it would forget
   * the sessions and apply a retried command twice.
   */
  #source(): AsyncGenerator<Uint8Array> {
    const host = this.#host;
    return withSessionSection(
      host.applier.sessions.encode(host.resultCodec),
      host.stateMachine.snapshot!(),
    );
  }

  #due(): boolean {
    const { entriesMax, bytesMax } = this.#host.snapshots;
    return this.enabled && (this.#entriesSince >= entriesMax || this.#bytesSince >= bytesMax);
  }

  /** Captures the state machine at the applied index, then writes it out beside the loop. */
  #capture(core: RaftCore): void {
    const host = this.#host;
    const index = host.applier.appliedIndex;
    const requests = this.#requests.splice(0);
    const meta = core.snapshotMeta(index);
    const source = this.#source();
    this.#entriesSince = 0;
    this.#bytesSince = 0;
    const started = host.clock.now();
    const writing = this.#write(meta, source);
    this.#writing = writing;
    writing.then(
      (stored) => {
        this.#writing = null;
        for (const request of requests) request.resolve(stored);
        if (this.#recordTaken(stored, index, started)) host.schedule();
      },
      (error: unknown) => {
        this.#writing = null;
        for (const request of requests) request.reject(error);
        host.fail(toStorageError(error));
      },
    );
  }

  async #write(
    meta: SnapshotMeta,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<StoredSnapshot> {
    const storage = this.#host.storage;
    const writer = await storage.createSnapshot(meta);
    let checksum = 0;
    try {
      for await (const chunk of source) {
        checksum = crc32c(chunk, checksum);
        await writer.write(chunk);
      }
      const latest = await storage.latestSnapshot();
      if (latest !== null && latest.meta.index >= meta.index) {
        // A snapshot as new arrived from the leader meanwhile.
        await writer.abort();
        return latest;
      }
      return await writer.publish(checksum);
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
  }

  async #installNow(core: RaftCore): Promise<void> {
    const host = this.#host;
    const { stored, from, durationMs } = this.#install!;
    this.#install = null;
    const { index, term } = stored.meta;
    // Already past it (the log caught up meanwhile): restoring would move the state backwards.
    if (index <= core.status().snapshotIndex || index <= host.applier.appliedIndex) return;
    const started = host.clock.now();
    await wrapStorage(() => host.storage.compact(stored.meta));
    const chunks = readSnapshotChunks(host.storage, stored, host.snapshots.chunkBytes);
    const { sessions } = host.applier;
    await host.stateMachine.restore!(await takeSessionSection(chunks, sessions, host.resultCodec), {
      index,
      term,
    });
    host.applier.restore(index);
    core.installSnapshot(stored.meta);
    host.skippedThrough(index);
    this.#entriesSince = 0;
    this.#bytesSince = 0;
    host.counters.snapshotsInstalled++;
    host.counters.snapshotBytesReceived += stored.bytes;
    this.#publish('installed', stored, durationMs + host.clock.now() - started, from);
  }

  #publish(
    kind: RaftNodeEvents['snapshot']['kind'],
    stored: StoredSnapshot,
    durationMs: number,
    peer: NodeId | null,
  ): void {
    this.#host.events.publish('snapshot', {
      nodeId: this.#host.id,
      kind,
      index: stored.meta.index,
      bytes: stored.bytes,
      durationMs,
      peer,
    });
  }

  /** Work that runs beside the loop; a storage failure there is as fatal as anywhere. */
  #background(work: Promise<void>): void {
    work.catch((error: unknown) => this.#host.fail(toStorageError(error)));
  }
}

function toStorageError(error: unknown): RaftError {
  if (error instanceof RaftError) return error;
  return new RaftError('STORAGE_FAILED', 'snapshot storage failed', { cause: error });
}

/**
 * The index compaction may reach behind a snapshot at `index`: the window after it keeps
 * `trailingEntries` entries, fewer when they would hold more than `trailingBytes` of commands.
 */
export function trailingWindowStart(
  core: RaftCore | null,
  index: number,
  options: Pick<SnapshotOptions, 'trailingEntries' | 'trailingBytes'>,
): number {
  const byCount = index - options.trailingEntries;
  if (core === null) return byCount;
  let bytes = 0;
  for (let kept = index; kept > Math.max(byCount, core.snapshotIndex); kept--) {
    const entry = core.entry(kept);
    if (entry === undefined) break;
    if (entry.kind === 'command') bytes += entry.data.byteLength;
    if (bytes > options.trailingBytes) return kept;
  }
  return byCount;
}
