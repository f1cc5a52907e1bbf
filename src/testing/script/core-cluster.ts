import { formatMessage } from '../../core/format.js';
import type { InstallSnapshot, RaftMessage } from '../../core/messages.js';
import { coreDefaults, type RaftCoreOptions } from '../../core/options.js';
import { RaftCore, type CoreStartState } from '../../core/raft-core.js';
import type { CoreTraceEvent } from '../../core/index.js';
import {
  bootstrapSnapshot,
  configurationOf,
  emptyConfiguration,
  type ClusterSettings,
  type SnapshotMeta,
} from '../../core/types.js';
import { ClusterCheckers } from '../checkers/cluster-checkers.js';
import { appliedEntryOf } from '../checkers/state-machine-safety.js';
import { BlockedLinks } from './blocked-links.js';
import { CoreClusterView, diskLogView } from './core-cluster-view.js';
import { readyLines, traceLine } from './ready-transcript.js';
import {
  emptyDisk,
  installSnapshot,
  persistReady,
  snapshotChunk,
  takeSnapshot,
  type Disk,
  type TestServer,
} from './test-server.js';

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
 * one line of text, so a test reads like a transcript. The safety checkers see every message,
 * write and apply as it happens; {@link check} judges the servers' state. Test-only.
 */
export class CoreCluster {
  readonly servers = new Map<string, TestServer>();
  readonly mailbox: RaftMessage[] = [];
  /** Scripts have no clock: a violation is placed by the step that found it, not by a time. */
  readonly checkers = new ClusterCheckers({
    now: () => 0,
    cluster: new CoreClusterView(this.servers),
  });
  readonly #links = new BlockedLinks();
  readonly #options: ClusterOptions;
  readonly #output: string[] = [];

  constructor(options: ClusterOptions) {
    this.#options = options;
    const voters = range(options.voters);
    const learners = range(options.learners ?? 0).map((n) => String(Number(n) + options.voters));
    const settings = { preVote: true, checkQuorum: true, ...options.settings };
    const snapshot = bootstrapSnapshot(configurationOf(voters, { learners }), settings);
    for (const id of [...voters, ...learners]) this.#addServer(id, snapshot);
  }

  /**
   * Adds a server that belongs to no configuration yet (a server about to join): it waits, never
   * campaigns, and learns the configuration from the leader's log once it is added.
   */
  addServer(id: string): void {
    if (this.servers.has(id)) throw new Error(`server ${id} exists already`);
    const settings = this.servers.values().next().value?.disk.snapshot.settings;
    this.#addServer(id, bootstrapSnapshot(emptyConfiguration, settings));
  }

  #addServer(id: string, snapshot: SnapshotMeta): void {
    const disk = emptyDisk(snapshot);
    const core = this.#makeCore(id, disk, 0);
    this.servers.set(id, { core, disk, applied: [], inProgress: null, incarnation: 1 });
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

  /** Takes a snapshot of what `id` has applied and compacts its log up to `compactTo`. */
  snapshot(id: string, compactTo: number): void {
    const meta = takeSnapshot(this.server(id), compactTo);
    this.log(`${id}: snapshot ${meta.index}/${meta.term} log starts after ${compactTo}`);
  }

  /** Installs a received snapshot; the data is on the sender's disk. */
  #installChunk(id: string, chunk: InstallSnapshot): void {
    const data = this.server(chunk.from).disk.snapshotData;
    if (data === null || data.meta.index !== chunk.snapshot.index) {
      throw new Error(`${chunk.from} no longer holds snapshot ${chunk.snapshot.index}`);
    }
    const server = this.server(id);
    this.#send([installSnapshot(server, chunk, data)]);
    this.checkers.snapshotRestored(id, server.incarnation, chunk.snapshot.index);
  }

  /** Ticks to a sure campaign: with random fixed at 0 the timeout is exactly this. */
  get electionTicks(): number {
    return this.#options.core?.electionTicks ?? coreDefaults.electionTicks;
  }

  /** Ticks between a leader's heartbeats. */
  get heartbeatTicks(): number {
    return this.#options.core?.heartbeatTicks ?? coreDefaults.heartbeatTicks;
  }

  /** The server `id`; throws for an unknown id, so a script's typo fails loudly. */
  server(id: string): TestServer {
    const server = this.servers.get(id);
    if (server === undefined) throw new Error(`no server ${id}`);
    return server;
  }

  /** The core of server `id` as it runs now (a restart replaces it). */
  core(id: string): RaftCore {
    return this.server(id).core;
  }

  /** Lines recorded since the last call. */
  takeOutput(): string {
    return this.#output.splice(0).join('\n');
  }

  /** Adds a line to the transcript. */
  log(line: string): void {
    this.#output.push(line);
  }

  /**
   * Judges every server's state as it is now (the checkers saw the messages, writes and applies
   * as they happened) and throws the first violation found so far as a `SafetyViolationError`.
   */
  check(): void {
    this.checkers.serversChanged(this.servers.keys());
    this.checkers.throwFirstViolation();
  }

  /** Puts `messages` on the wire; the checkers see each one leave. */
  #send(messages: readonly RaftMessage[]): void {
    for (const message of messages) {
      this.checkers.messageSent(message);
      this.mailbox.push(message);
    }
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
    this.#output.push(...readyLines(id, ready));
    this.#send(ready.messages);
    for (const read of ready.reads) this.checkers.readIndex.answer(id, read);
    server.inProgress = { ready, persisted: false };
    return true;
  }

  /** Stage 2: the Ready's hard state and entries reach the disk. Returns whether it wrote. */
  persistReady(id: string): boolean {
    const server = this.server(id);
    const inProgress = server.inProgress;
    if (inProgress === null || inProgress.persisted) return false;
    persistReady(server.disk, inProgress.ready);
    inProgress.persisted = true;
    const { entries } = inProgress.ready;
    if (entries.length > 0) this.checkers.entriesWritten(id, entries, diskLogView(server.disk));
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
    this.#send(ready.messagesAfterPersist);
    server.applied.push(...ready.committed);
    for (const entry of ready.committed) {
      this.checkers.entryApplied(id, server.incarnation, appliedEntryOf(entry));
    }
    server.core.advance(ready);
    server.inProgress = null;
    for (const transfer of ready.snapshotTransfers) {
      this.#send([snapshotChunk(id, server, transfer)]);
    }
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

  /** Prints the trace events that explain an input with no visible effect. */
  readonly #logTrace = (event: CoreTraceEvent): void => {
    const line = traceLine(event);
    if (line !== null) this.log(line);
  };

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
    if (this.#links.blocks(message.from, message.to) || !this.servers.has(message.to)) {
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
    this.#links.partition(left, right);
  }

  /** Cuts `id` off from every other server, both ways. */
  isolate(id: string): void {
    this.partition(
      [id],
      this.#ids().filter((other) => other !== id),
    );
  }

  /** Restores every cut link. */
  heal(): void {
    this.#links.heal();
  }

  /** Lets `ticks` ticks of logical time pass on server `id` alone. */
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
    server.incarnation++;
    this.checkers.readIndex.forget(id);
  }

  /**
   * Crashes a server and restarts it on an empty disk under the same id (a lost disk): it knows no
   * configuration, term or vote any more.
   */
  wipe(id: string): void {
    const server = this.server(id);
    const settings = server.disk.snapshot.settings;
    server.disk = emptyDisk(bootstrapSnapshot(emptyConfiguration, settings));
    server.applied = [];
    this.restart(id);
  }
}

function range(count: number): string[] {
  return Array.from({ length: count }, (_, position) => String(position + 1));
}
