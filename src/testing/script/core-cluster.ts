import { formatEntry, formatMessage } from '../../core/format.js';
import type { InstallSnapshot, RaftMessage } from '../../core/messages.js';
import { coreDefaults, type RaftCoreOptions } from '../../core/options.js';
import { RaftCore, type CoreStartState } from '../../core/raft-core.js';
import type { CoreTraceEvent, ReadState } from '../../core/index.js';
import type { Ready, SnapshotTransfer } from '../../core/ready.js';
import {
  bootstrapSnapshot,
  configurationOf,
  emptyConfiguration,
  type ClusterSettings,
  type Entry,
  type HardState,
  type SnapshotMeta,
} from '../../core/types.js';

/** A snapshot's data in a test: the entries it covers, as the application applied them. */
interface SnapshotData {
  readonly meta: SnapshotMeta;
  readonly applied: readonly Entry[];
}

/** What a test server has made durable: all that survives `restart`. */
interface Disk {
  hardState: HardState;
  /** The compaction marker: the log starts after it. */
  snapshot: SnapshotMeta;
  entries: Entry[];
  /** The newest snapshot's data, taken here or received from a leader. */
  snapshotData: SnapshotData | null;
}

/** A Ready taken from a core and not yet advanced: the stages a crash can fall between. */
interface ReadyInProgress {
  readonly ready: Ready;
  /** Whether its hard state and entries are on the disk yet. */
  persisted: boolean;
}

interface TestServer {
  core: RaftCore;
  disk: Disk;
  /** Every entry applied, oldest first; replaced by the snapshot's when one is installed. */
  applied: Entry[];
  /** The Ready being worked through, one stage at a time; lost if the server restarts. */
  inProgress: ReadyInProgress | null;
}

/** Observes the answers to read requests as a server's runtime would serve them. */
export type ReadListener = (server: string, read: ReadState) => void;

/**
 * Builds a core. The default builds `RaftCore`; the mutation tests pass one that builds a copy of
 * the core with a bug planted in it, to show that the checks catch it.
 */
export type CoreFactory = (options: RaftCoreOptions, start: CoreStartState) => RaftCore;

/** Options for a whole test cluster. */
export interface ClusterOptions {
  readonly voters: number;
  readonly learners?: number;
  readonly settings?: Partial<ClusterSettings>;
  readonly core?: Omit<RaftCoreOptions, 'id'>;
  readonly coreFactory?: CoreFactory;
}

/**
 * Several cores wired together by an in-memory mailbox, with a disk per server. Drives them by hand
 * (process one Ready, deliver messages) or to quiescence (`stabilize`), and records every step as
 * one line of text, so a test reads like a transcript. Test-only.
 */
export class CoreCluster {
  readonly servers = new Map<string, TestServer>();
  readonly mailbox: RaftMessage[] = [];
  readonly #blocked = new Set<string>();
  readonly #options: ClusterOptions;
  readonly #output: string[] = [];
  #readListener: ReadListener | null = null;

  constructor(options: ClusterOptions) {
    this.#options = options;
    const voters = range(options.voters);
    const learners = range(options.learners ?? 0).map((n) => String(Number(n) + options.voters));
    const settings = { preVote: true, checkQuorum: true, ...options.settings };
    const snapshot = bootstrapSnapshot(configurationOf(voters, { learners }), settings);
    for (const id of [...voters, ...learners]) {
      const disk: Disk = {
        hardState: { term: 0, vote: null, commit: 0 },
        snapshot,
        entries: [],
        snapshotData: null,
      };
      this.servers.set(id, {
        core: this.#makeCore(id, disk, 0),
        disk,
        applied: [],
        inProgress: null,
      });
    }
  }

  /**
   * Adds a server that belongs to no configuration yet (a server about to join): it waits, never
   * campaigns, and learns the configuration from the leader's log once it is added.
   */
  addServer(id: string): void {
    if (this.servers.has(id)) throw new Error(`server ${id} exists already`);
    const settings = this.servers.values().next().value?.disk.snapshot.settings;
    const snapshot = bootstrapSnapshot(emptyConfiguration, settings);
    const disk: Disk = {
      hardState: { term: 0, vote: null, commit: 0 },
      snapshot,
      entries: [],
      snapshotData: null,
    };
    this.servers.set(id, {
      core: this.#makeCore(id, disk, 0),
      disk,
      applied: [],
      inProgress: null,
    });
  }

  #makeCore(id: string, disk: Disk, applied: number): RaftCore {
    const build =
      this.#options.coreFactory ??
      ((options: RaftCoreOptions, start: CoreStartState) => new RaftCore(options, start));
    const core = build(
      // Random 0 makes every election timeout exactly `electionTicks`, so scripts are exact.
      { random: () => 0, ...this.#options.core, id, applied, tracer: this.#logTrace },
      { hardState: disk.hardState, snapshot: disk.snapshot, entries: disk.entries },
    );
    if (disk.snapshotData !== null) core.snapshotAvailable(disk.snapshotData.meta);
    return core;
  }

  /**
   * Takes a snapshot of what `id` has applied and compacts its log up to `compactTo` (at most the
   * applied index), the way the runtime does: snapshot data first, then storage, then the core.
   */
  snapshot(id: string, compactTo: number): void {
    const server = this.server(id);
    const appliedIndex = server.applied.at(-1)?.index ?? server.disk.snapshot.index;
    const meta = server.core.snapshotMeta(appliedIndex);
    server.disk.snapshotData = { meta, applied: [...server.applied] };
    server.core.snapshotAvailable(meta);
    const marker = server.core.snapshotMeta(compactTo);
    server.disk.entries = server.disk.entries.filter((entry) => entry.index > compactTo);
    server.disk.snapshot = marker;
    server.core.compact(compactTo);
    this.log(`${id}: snapshot ${meta.index}/${meta.term} log starts after ${compactTo}`);
  }

  /** Streams a leader's snapshot as one chunk; the receiver finds the data on the sender's disk. */
  #startTransfer(id: string, transfer: SnapshotTransfer): void {
    const data = this.server(id).disk.snapshotData;
    if (data === null || data.meta.index !== transfer.snapshot.index) {
      throw new Error(`${id} has no data for snapshot ${transfer.snapshot.index}`);
    }
    const bytes = new Uint8Array(data.applied.length);
    this.mailbox.push({
      type: 'install-snapshot',
      term: this.core(id).term,
      from: id,
      to: transfer.to,
      snapshot: transfer.snapshot,
      offset: 0,
      data: bytes,
      totalBytes: bytes.byteLength,
      checksum: 0,
      done: true,
    });
  }

  /** Installs a received snapshot at once (the runtime stores chunks, then does the same). */
  #installChunk(id: string, chunk: InstallSnapshot): void {
    const server = this.server(id);
    const data = this.server(chunk.from).disk.snapshotData;
    if (data === null || data.meta.index !== chunk.snapshot.index) {
      throw new Error(`${chunk.from} no longer holds snapshot ${chunk.snapshot.index}`);
    }
    const meta = chunk.snapshot;
    const kept = server.disk.entries.find((entry) => entry.index === meta.index);
    server.disk.entries =
      kept?.term === meta.term
        ? server.disk.entries.filter((entry) => entry.index > meta.index)
        : [];
    server.disk.snapshot = meta;
    server.disk.snapshotData = data;
    server.applied = [...data.applied];
    server.core.installSnapshot(meta);
    this.mailbox.push({
      type: 'install-snapshot-response',
      term: server.core.term,
      from: id,
      to: chunk.from,
      snapshotIndex: meta.index,
      bytesReceived: chunk.totalBytes,
      success: true,
    });
  }

  /** Ticks to a sure campaign: with random fixed at 0 the timeout is exactly this. */
  get electionTicks(): number {
    return this.#options.core?.electionTicks ?? coreDefaults.electionTicks;
  }

  get heartbeatTicks(): number {
    return this.#options.core?.heartbeatTicks ?? coreDefaults.heartbeatTicks;
  }

  server(id: string): TestServer {
    const server = this.servers.get(id);
    if (server === undefined) throw new Error(`no server ${id}`);
    return server;
  }

  core(id: string): RaftCore {
    return this.server(id).core;
  }

  /** Lines recorded since the last call. */
  takeOutput(): string {
    return this.#output.splice(0).join('\n');
  }

  log(line: string): void {
    this.#output.push(line);
  }

  /** Calls `listener` with every read answer a server takes from its core. */
  onRead(listener: ReadListener | null): void {
    this.#readListener = listener;
  }

  /**
   * Persists, sends and applies one server's Ready, the way the runtime does. A Ready already in
   * progress is finished first. Returns whether there was anything to do.
   */
  processReady(id: string): boolean {
    const server = this.server(id);
    const finishing = server.inProgress !== null;
    if (finishing) this.finishReady(id);
    if (!this.takeReady(id)) return finishing;
    this.persistReady(id);
    this.finishReady(id);
    return true;
  }

  /**
   * Stage 1 of a Ready: takes it from the core and sends the messages that need nothing durable
   * (a leader's appends go out while its own write is under way). Returns whether one was taken;
   * false while another is still in progress.
   */
  takeReady(id: string): boolean {
    const server = this.server(id);
    if (server.inProgress !== null || !server.core.hasReady()) return false;
    const ready = server.core.ready();
    this.#logReady(id, ready);
    this.mailbox.push(...ready.messages);
    for (const read of ready.reads) this.#readListener?.(id, read);
    server.inProgress = { ready, persisted: false };
    return true;
  }

  /** Stage 2: the Ready's hard state and entries reach the disk. Returns whether it wrote. */
  persistReady(id: string): boolean {
    const server = this.server(id);
    const inProgress = server.inProgress;
    if (inProgress === null || inProgress.persisted) return false;
    persist(server.disk, inProgress.ready);
    inProgress.persisted = true;
    return true;
  }

  /**
   * Stage 3: sends what promised durable state (votes, acknowledgements), applies, and advances
   * the core. Persists first if stage 2 has not run. Returns whether a Ready was finished.
   */
  finishReady(id: string): boolean {
    const server = this.server(id);
    const inProgress = server.inProgress;
    if (inProgress === null) return false;
    if (!inProgress.persisted) this.persistReady(id);
    const ready = inProgress.ready;
    this.mailbox.push(...ready.messagesAfterPersist);
    server.applied.push(...ready.committed);
    server.core.advance(ready);
    server.inProgress = null;
    for (const transfer of ready.snapshotTransfers) this.#startTransfer(id, transfer);
    for (const message of ready.snapshotMessages) {
      if (message.type === 'install-snapshot') this.#installChunk(id, message);
    }
    return true;
  }

  /** Whether `id` has taken a Ready whose writes have not reached its disk yet. */
  writing(id: string): boolean {
    return this.server(id).inProgress?.persisted === false;
  }

  /** Whether `id` has written a Ready to disk and not yet sent what depends on it. */
  persistedNotSent(id: string): boolean {
    return this.server(id).inProgress?.persisted === true;
  }

  /**
   * Prints the trace events that explain an input with no visible effect: a message the core
   * dropped and why. The others (roles, commits) already show in the Ready.
   */
  readonly #logTrace = (event: CoreTraceEvent): void => {
    if (event.kind === 'ignored') {
      this.log(`${event.id}: ignore ${formatMessage(event.message)}: ${event.reason}`);
    } else if (event.kind === 'invalid-message') {
      this.log(`${event.id}: invalid ${formatMessage(event.message)}: ${event.reason}`);
    }
  };

  #logReady(id: string, ready: Ready): void {
    if (ready.softState !== null) {
      const soft = ready.softState;
      this.log(`${id}: ${soft.role} term=${soft.term} leader=${soft.leaderId ?? 'none'}`);
    }
    for (const message of ready.messages) this.log(`${id}: send ${formatMessage(message)}`);
    if (ready.hardState !== null) {
      this.log(
        `${id}: persist term=${ready.hardState.term} vote=${ready.hardState.vote ?? 'none'} commit=${ready.hardState.commit}`,
      );
    }
    if (ready.entries.length > 0) {
      this.log(`${id}: persist entries [${ready.entries.map(formatEntry).join(' ')}]`);
    }
    for (const message of ready.messagesAfterPersist) {
      this.log(`${id}: send ${formatMessage(message)}`);
    }
    if (ready.committed.length > 0) {
      this.log(`${id}: apply [${ready.committed.map(formatEntry).join(' ')}]`);
    }
    for (const read of ready.reads) {
      this.log(
        `${id}: read context=${read.context} ${read.confirmed ? `index=${read.index}` : 'refused'}`,
      );
    }
    for (const transfer of ready.snapshotTransfers) {
      const { index, term } = transfer.snapshot;
      this.log(`${id}: send snapshot ${index}/${term} to ${transfer.to}`);
    }
    for (const message of ready.snapshotMessages) {
      this.log(`${id}: snapshot ${formatMessage(message)}`);
    }
  }

  /** Delivers queued messages (only those to `to`, if given); blocked links drop them. */
  deliver(options: { to?: string; quiet?: boolean } = {}): number {
    const pending = this.mailbox.splice(0);
    let delivered = 0;
    for (const message of pending) {
      if (options.to !== undefined && message.to !== options.to) {
        this.mailbox.push(message);
        continue;
      }
      if (this.#deliverOne(message, options.quiet === true)) delivered++;
    }
    return delivered;
  }

  /**
   * Delivers the one queued message at `position`, out of order (a network that reorders).
   * Returns whether it arrived; a blocked link drops it.
   */
  deliverAt(position: number): boolean {
    const [message] = this.mailbox.splice(position, 1);
    if (message === undefined) throw new Error(`no message at mailbox position ${position}`);
    return this.#deliverOne(message, false);
  }

  /** Drops the one queued message at `position` (a network that loses messages). */
  dropAt(position: number): void {
    const [message] = this.mailbox.splice(position, 1);
    if (message === undefined) throw new Error(`no message at mailbox position ${position}`);
    this.log(`drop ${formatMessage(message)}`);
  }

  #deliverOne(message: RaftMessage, quiet: boolean): boolean {
    if (this.#blocked.has(`${message.from}->${message.to}`) || !this.servers.has(message.to)) {
      this.log(`drop ${formatMessage(message)}`);
      return false;
    }
    if (!quiet) this.log(`deliver ${formatMessage(message)}`);
    this.server(message.to).core.step(message);
    return true;
  }

  /** Drops queued messages matching the filter. */
  dropMessages(filter: { from?: string; to?: string }): void {
    const pending = this.mailbox.splice(0);
    for (const message of pending) {
      const matches =
        (filter.from === undefined || message.from === filter.from) &&
        (filter.to === undefined || message.to === filter.to);
      if (matches) this.log(`drop ${formatMessage(message)}`);
      else this.mailbox.push(message);
    }
  }

  /** Processes every Ready and delivers every message until nothing moves (bounded). */
  stabilize(roundsMax = 200): void {
    for (let round = 0; round < roundsMax; round++) {
      let moved = false;
      for (const id of this.#ids()) moved = this.processReady(id) || moved;
      moved = this.deliver({ quiet: true }) > 0 || moved;
      if (!moved && this.mailbox.length === 0) return;
    }
    throw new Error(`cluster did not stabilize within ${roundsMax} rounds`);
  }

  #ids(): string[] {
    return [...this.servers.keys()].sort((a, b) => Number(a) - Number(b));
  }

  /** Cuts every link between the two groups (both directions). */
  partition(left: readonly string[], right: readonly string[]): void {
    for (const a of left) {
      for (const b of right) {
        this.#blocked.add(`${a}->${b}`);
        this.#blocked.add(`${b}->${a}`);
      }
    }
  }

  isolate(id: string): void {
    this.partition(
      [id],
      this.#ids().filter((other) => other !== id),
    );
  }

  heal(): void {
    this.#blocked.clear();
  }

  tick(id: string, ticks: number): void {
    for (let count = 0; count < ticks; count++) this.core(id).tick();
  }

  /**
   * Loses everything not persisted and restarts the server from its disk. A Ready in progress is
   * lost: unwritten if stage 2 had not run, unsent if stage 3 had not.
   */
  restart(id: string): void {
    const server = this.server(id);
    server.inProgress = null;
    // Messages to a crashed server are lost; the ones it sent are already on the wire.
    const pending = this.mailbox.splice(0);
    this.mailbox.push(...pending.filter((message) => message.to !== id));
    server.core = this.#makeCore(id, server.disk, server.applied.at(-1)?.index ?? 0);
  }

  /**
   * Crashes a server and restarts it on an empty disk under the same id (a lost disk): it knows no
   * configuration, term or vote any more.
   */
  wipe(id: string): void {
    const server = this.server(id);
    const settings = server.disk.snapshot.settings;
    server.disk = {
      hardState: { term: 0, vote: null, commit: 0 },
      snapshot: bootstrapSnapshot(emptyConfiguration, settings),
      entries: [],
      snapshotData: null,
    };
    server.applied = [];
    this.restart(id);
  }

  /** The servers that believe they lead, by term (for safety checks). */
  leaders(): Map<number, string[]> {
    const byTerm = new Map<number, string[]>();
    for (const [id, server] of this.servers) {
      if (server.core.role !== 'leader') continue;
      byTerm.set(server.core.term, [...(byTerm.get(server.core.term) ?? []), id]);
    }
    return byTerm;
  }
}

function persist(disk: Disk, ready: Ready): void {
  if (ready.hardState !== null) disk.hardState = ready.hardState;
  const first = ready.entries[0];
  if (first !== undefined) {
    disk.entries.length = Math.min(disk.entries.length, first.index - disk.snapshot.index - 1);
    disk.entries.push(...ready.entries);
  }
}

function range(count: number): string[] {
  return Array.from({ length: count }, (_, position) => String(position + 1));
}
