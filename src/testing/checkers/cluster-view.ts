import type { Role } from '../../core/configuration.js';
import type { Configuration, Entry, NodeId } from '../../core/types.js';

/** A log as the checkers read it. Entries up to `snapshotIndex` were compacted: held, not readable. */
export interface LogView {
  readonly snapshotIndex: number;
  /** The last index held, or the snapshot index when nothing follows it. */
  readonly lastIndex: number;
  /** The term at `lastIndex`. */
  readonly lastTerm: number;
  /** The entry at `index`, if held and not compacted. */
  entry(index: number): Entry | undefined;
  /** The term at `index` (the snapshot's term at the snapshot index), `undefined` if unknown. */
  termAt(index: number): number | undefined;
}

/**
 * What a server's disk holds: everything that survives a crash. Figure 2 of the paper makes a
 * server persist its term, vote and log before answering, so its answers are judged against this.
 */
export interface DurableView {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly log: LogView;
}

/** What the running process of a server holds in memory. */
export interface ProcessView {
  /** Counts the server's processes; a restart starts a new one, with state read from disk. */
  readonly incarnation: number;
  readonly role: Role;
  readonly term: number;
  readonly commitIndex: number;
  /**
   * The last index of the process's log. `log` may trail it while the process has entries it
   * has not handed to its storage yet (the simulator reads the log its storage was given).
   */
  readonly lastIndex: number;
  /** The configuration in effect: the latest one in the process's log. */
  readonly configuration: Configuration;
  readonly log: LogView;
}

/** One server: its process, if one runs, and its disk, which outlives processes. */
export interface ServerView {
  readonly id: NodeId;
  /** The running process, or null while the server is down. */
  readonly process: ProcessView | null;
  readonly durable: DurableView;
}

/**
 * A whole cluster as the checkers see it at one moment. The script cluster and the simulator
 * both produce one, so one set of checkers judges both: the properties live in one place.
 */
export interface ClusterView {
  /** Every server, up or down. */
  servers(): Iterable<ServerView>;
  server(id: NodeId): ServerView | undefined;
}

/**
 * A {@link LogView} of plain entries that follow `snapshot`: `entries[i]` has index
 * `snapshot.index + 1 + i`. A class rather than closures: the simulator builds one per disk on
 * every step.
 */
export function arrayLogView(
  snapshot: { readonly index: number; readonly term: number },
  entries: readonly Entry[],
): LogView {
  return new ArrayLogView(snapshot, entries);
}

class ArrayLogView implements LogView {
  readonly #snapshot: { readonly index: number; readonly term: number };
  readonly #entries: readonly Entry[];

  constructor(
    snapshot: { readonly index: number; readonly term: number },
    entries: readonly Entry[],
  ) {
    this.#snapshot = snapshot;
    this.#entries = entries;
  }

  get snapshotIndex(): number {
    return this.#snapshot.index;
  }

  get lastIndex(): number {
    return this.#snapshot.index + this.#entries.length;
  }

  get lastTerm(): number {
    return this.#entries.at(-1)?.term ?? this.#snapshot.term;
  }

  entry(index: number): Entry | undefined {
    return index <= this.#snapshot.index
      ? undefined
      : this.#entries[index - this.#snapshot.index - 1];
  }

  termAt(index: number): number | undefined {
    return index === this.#snapshot.index ? this.#snapshot.term : this.entry(index)?.term;
  }
}

/**
 * Whether the servers for which `holds` is true form a quorum of `configuration`: a majority of
 * its voters, and during a joint change a majority of the outgoing voters too. Written out here
 * rather than borrowed from the core, so a bug in the core's quorum code cannot hide itself.
 */
export function isQuorum(configuration: Configuration, holds: (id: NodeId) => boolean): boolean {
  const majorityOf = (voters: readonly NodeId[]): boolean =>
    voters.filter(holds).length * 2 > voters.length;
  if (!majorityOf(configuration.voters)) return false;
  return configuration.outgoingVoters.length === 0 || majorityOf(configuration.outgoingVoters);
}

/** Whether `id` may campaign under `configuration` (learners and strangers never do). */
export function isVoterIn(configuration: Configuration, id: NodeId): boolean {
  return configuration.voters.includes(id) || configuration.outgoingVoters.includes(id);
}
