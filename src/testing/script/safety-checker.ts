import type { Role } from '../../core/configuration.js';
import type { RaftMessage } from '../../core/messages.js';
import type { Entry } from '../../core/types.js';
import { SafetyViolationError, type SafetyProperty } from '../checkers/safety-violation.js';
import type { CoreCluster } from './core-cluster.js';
import { entryContentKey } from '../sim/entry-key.js';

/** What the checker needs to know of one server at one moment. */
export interface ServerView {
  readonly id: string;
  readonly role: Role;
  readonly term: number;
  /**
   * The term and vote on the server's disk. Only a durable vote counts: one still in memory was
   * never sent (grants wait for the persist) and a crash may rightly forget it.
   */
  readonly durable: {
    readonly term: number;
    readonly vote: string | null;
    /** The log on the server's disk, index 1 first: what survives a crash. */
    readonly entries: readonly Entry[];
  };
  readonly commitIndex: number;
  /** The server's log, index 1 first (no snapshots yet, so the log starts at 1). */
  readonly entries: readonly Entry[];
  /** Every entry the server handed to its state machine, across restarts, in order. */
  readonly applied: readonly Entry[];
}

/** Reads every server of a cluster into views. */
export function viewsOf(cluster: CoreCluster): ServerView[] {
  return [...cluster.servers].map(([id, server]) => {
    const status = server.core.status();
    const entries: Entry[] = [];
    for (let index = 1; index <= status.lastIndex; index++) {
      const entry = server.core.entry(index);
      if (entry === undefined) throw new Error(`${id} has no entry ${index} below its last index`);
      entries.push(entry);
    }
    return {
      id,
      role: status.role,
      term: status.term,
      durable: {
        term: server.disk.hardState.term,
        vote: server.disk.hardState.vote,
        entries: server.disk.entries,
      },
      commitIndex: status.commitIndex,
      entries,
      applied: server.applied,
    };
  });
}

/** §5.4.1: whether `candidate`'s log is at least as up to date as `voter`'s. */
function atLeastAsUpToDate(candidate: ServerView, voter: ServerView): boolean {
  const candidateTerm = candidate.entries.at(-1)?.term ?? 0;
  const voterTerm = voter.entries.at(-1)?.term ?? 0;
  if (candidateTerm !== voterTerm) return candidateTerm > voterTerm;
  return candidate.entries.length >= voter.entries.length;
}

// Entries are immutable and shared between a core, its disk and the applied list, so each is
// rendered once; checking after every step would otherwise spend its time building strings.
const renderedKeys = new WeakMap<Entry, string>();

/** An entry's position and term, then the simulator's key for its content. */
export function entryKey(entry: Entry): string {
  let key = renderedKeys.get(entry);
  if (key === undefined) {
    key = `${entry.index}/${entry.term} ${entryContentKey(entry)}`;
    renderedKeys.set(entry, key);
  }
  return key;
}

/** Throws the violation of `property`: the checker stops at the first one. */
function violated(property: SafetyProperty, message: string): never {
  throw new SafetyViolationError(property, message);
}

/**
 * Raft's safety properties (Figure 3 of the paper), and the durability rules of Figure 2 they rest
 * on, checked over a run one moment at a time. It remembers what it saw, so "committed entries
 * never change" and "one leader per term" hold over the whole history, not only within one moment.
 * `check` throws a {@link SafetyViolationError} naming the property and what broke it. Every server
 * in the views is taken for a voter.
 */
export class SafetyChecker {
  readonly #leaderOfTerm = new Map<number, string>();
  /** `server@term` → the candidate it voted for then. */
  readonly #votes = new Map<string, string>();
  /** Every committed entry seen so far, by index - 1, with the term it was first seen committed at. */
  readonly #committed: { key: string; seenAtTerm: number }[] = [];
  /** The longest applied sequence seen so far; every server's must be a prefix of it. */
  readonly #applied: string[] = [];

  /** Checks one moment; `inFlight` are the messages sent and not yet delivered. */
  check(views: readonly ServerView[], inFlight: readonly RaftMessage[] = []): void {
    this.#checkGrantsDurable(views, inFlight);
    this.#checkAcknowledgementsDurable(views, inFlight);
    this.#checkSingleVote(views);
    this.#checkElectionSafety(views);
    this.#checkCommitted(views);
    this.#checkCommitDurable(views);
    this.#checkNoElectableServerLacksCommitted(views);
    this.#checkLogMatching(views);
    this.#checkLeaderCompleteness(views);
    this.#checkApplied(views);
  }

  /**
   * Figure 2: persistent state is "updated on stable storage before responding to RPCs". A vote
   * granted on the wire must be on the voter's disk, unless the voter has moved on to a later term.
   */
  #checkGrantsDurable(views: readonly ServerView[], inFlight: readonly RaftMessage[]): void {
    for (const message of inFlight) {
      if (message.type !== 'request-vote-response' || !message.granted || message.preVote) continue;
      const voter = views.find((view) => view.id === message.from);
      if (voter === undefined || voter.durable.term > message.term) continue;
      if (voter.durable.term < message.term || voter.durable.vote !== message.to) {
        violated(
          'durability',

          `${message.from} granted ${message.to} its vote in term ${message.term} but its disk holds term ${voter.durable.term} vote ${voter.durable.vote ?? 'none'}`,
        );
      }
    }
  }

  /**
   * Figure 2 again, for appends: a follower acknowledges entries only once they are on its disk. An
   * acknowledgement on the wire claiming a match at `m` in term `t` must find the first `m` entries
   * on the sender's disk, unless the sender has durably moved on to a later term (a later leader
   * may rightly have replaced its uncommitted tail).
   */
  #checkAcknowledgementsDurable(views: readonly ServerView[], inFlight: readonly RaftMessage[]) {
    for (const message of inFlight) {
      if (message.type !== 'append-entries-response' || !message.success) continue;
      const sender = views.find((view) => view.id === message.from);
      if (sender === undefined || sender.durable.term > message.term) continue;
      if (
        sender.durable.term < message.term ||
        sender.durable.entries.length < message.matchIndex
      ) {
        violated(
          'durability',
          `${message.from} acknowledged entries up to ${message.matchIndex} in term ${message.term} but its disk holds term ${sender.durable.term} and ${sender.durable.entries.length} entries`,
        );
      }
    }
  }

  /**
   * Committed means stored on a majority (§5.3), and stored means durable: a server's commit index
   * may only point at an entry that a majority of servers hold on disk. Leaders must count their
   * own entries only once durable (thesis §10.2.1), and followers acknowledge only what they wrote.
   */
  #checkCommitDurable(views: readonly ServerView[]): void {
    const majority = Math.floor(views.length / 2) + 1;
    for (const view of views) {
      if (view.commitIndex === 0) continue;
      const entry = view.entries[view.commitIndex - 1];
      if (entry === undefined) continue;
      const holders = views.filter(
        (other) => other.durable.entries[view.commitIndex - 1]?.term === entry.term,
      ).length;
      if (holders < majority) {
        violated(
          'durability',
          `${view.id} committed ${entry.index}/${entry.term} but only ${holders} of ${views.length} servers hold it on disk`,
        );
      }
    }
  }

  /**
   * Leader Completeness, one step ahead (§5.4.3): a server that lacks a committed entry must never
   * be able to win an election. It could if a majority of logs, its own included, are no more up to
   * date than its own (§5.4.1), since those servers would grant it their votes in some later term.
   * Committing an entry of an earlier term by counting replicas (Figure 8) breaks this at once.
   */
  #checkNoElectableServerLacksCommitted(views: readonly ServerView[]): void {
    const highest = this.#committed.length;
    const committed = this.#committed[highest - 1];
    if (committed === undefined) return;
    const majority = Math.floor(views.length / 2) + 1;
    for (const candidate of views) {
      const held = candidate.entries[highest - 1];
      if (held !== undefined && entryKey(held) === committed.key) continue;
      const voters = views.filter((voter) => atLeastAsUpToDate(candidate, voter)).length;
      if (voters >= majority) {
        violated(
          'leader-completeness',
          `${candidate.id} lacks committed entry ${committed.key} yet ${voters} of ${views.length} servers would elect it`,
        );
      }
    }
  }

  /** §5.2: a server votes for at most one candidate in a term, restarts included. */
  #checkSingleVote(views: readonly ServerView[]): void {
    for (const view of views) {
      const { term, vote } = view.durable;
      if (vote === null) continue;
      const key = `${view.id}@${term}`;
      const known = this.#votes.get(key);
      if (known !== undefined && known !== vote) {
        violated(
          'election-safety',
          `${view.id} voted for ${known} and then ${vote} in term ${term}`,
        );
      }
      this.#votes.set(key, vote);
    }
  }

  /** Election Safety: at most one leader can be elected in a given term. */
  #checkElectionSafety(views: readonly ServerView[]): void {
    for (const view of views) {
      if (view.role !== 'leader') continue;
      const known = this.#leaderOfTerm.get(view.term);
      if (known !== undefined && known !== view.id) {
        violated('election-safety', `two leaders in term ${view.term}: ${known} and ${view.id}`);
      }
      this.#leaderOfTerm.set(view.term, view.id);
    }
  }

  /** State Machine Safety, on logs: a committed entry is the same everywhere, forever. */
  #checkCommitted(views: readonly ServerView[]): void {
    for (const view of views) {
      if (view.commitIndex > view.entries.length) {
        violated('state-machine-safety', `${view.id} commit ${view.commitIndex} beyond its log`);
      }
      for (let index = 1; index <= view.commitIndex; index++) {
        const key = entryKey(view.entries[index - 1]!);
        const known = this.#committed[index - 1];
        if (known === undefined) {
          this.#committed[index - 1] = { key, seenAtTerm: view.term };
        } else if (known.key !== key) {
          violated(
            'state-machine-safety',

            `committed entry ${index} changed: was ${known.key}, ${view.id} has ${key}`,
          );
        }
      }
    }
  }

  /**
   * Log Matching: if two logs contain an entry with the same index and term, the logs are identical
   * in all entries up through that index. Both committed prefixes were already compared with the
   * record, so only the part above the lower commit index needs a look.
   */
  #checkLogMatching(views: readonly ServerView[]): void {
    for (let first = 0; first < views.length; first++) {
      for (let second = first + 1; second < views.length; second++) {
        const a = views[first]!;
        const b = views[second]!;
        let top = Math.min(a.entries.length, b.entries.length);
        while (top > 0 && a.entries[top - 1]!.term !== b.entries[top - 1]!.term) top--;
        const from = Math.min(a.commitIndex, b.commitIndex, top);
        for (let index = from + 1; index <= top; index++) {
          const keyA = entryKey(a.entries[index - 1]!);
          const keyB = entryKey(b.entries[index - 1]!);
          if (keyA !== keyB) {
            violated(
              'log-matching',

              `log matching: ${a.id} and ${b.id} share ${top}/${a.entries[top - 1]!.term} but differ at ${index}: ${keyA} vs ${keyB}`,
            );
          }
        }
      }
    }
  }

  /** Leader Completeness: a leader of a later term holds every entry committed before it. */
  #checkLeaderCompleteness(views: readonly ServerView[]): void {
    for (const view of views) {
      if (view.role !== 'leader') continue;
      this.#committed.forEach((known, position) => {
        if (view.term <= known.seenAtTerm) return;
        const held = view.entries[position];
        if (held === undefined || entryKey(held) !== known.key) {
          violated(
            'leader-completeness',

            `leader ${view.id} of term ${view.term} lacks committed entry ${known.key} (has ${held === undefined ? 'nothing' : entryKey(held)})`,
          );
        }
      });
    }
  }

  /** State Machine Safety: every server applies the same entries in the same order, no gaps. */
  #checkApplied(views: readonly ServerView[]): void {
    for (const view of views) {
      view.applied.forEach((entry, position) => {
        const key = entryKey(entry);
        if (entry.index !== position + 1) {
          violated(
            'state-machine-safety',
            `${view.id} applied ${key} as its entry number ${position + 1}`,
          );
        }
        const known = this.#applied[position];
        if (known === undefined) this.#applied[position] = key;
        else if (known !== key) {
          violated(
            'state-machine-safety',
            `${view.id} applied ${key} where another server applied ${known}`,
          );
        }
        const committed = this.#committed[position];
        if (committed !== undefined && committed.key !== key) {
          violated(
            'state-machine-safety',
            `${view.id} applied ${key} but ${committed.key} was committed there`,
          );
        }
      });
    }
  }
}
