// Builders shared by the core's tests: a core started from a chosen log and term, hand-built
// messages, and a way to drain a core's output. Kept apart from the tests so each test states only
// what it is about.
import type {
  AppendEntries,
  AppendEntriesResponse,
  Heartbeat,
  RaftMessage,
  RaftMessageType,
  RequestVote,
  RequestVoteResponse,
} from './messages.js';
import type { RaftCoreOptions } from './options.js';
import { RaftCore } from './raft-core.js';
import {
  bootstrapSnapshot,
  configurationOf,
  type ClusterSettings,
  type CommandEntry,
  type Entry,
} from './types.js';

/** Plain Raft as the paper describes it: no PreVote, no CheckQuorum. */
export const plainRaft: ClusterSettings = Object.freeze({ preVote: false, checkQuorum: false });

/** A command entry whose data names its position, so two entries compare by content. */
export function command(index: number, term: number, text = `${index}/${term}`): CommandEntry {
  return { kind: 'command', index, term, data: new TextEncoder().encode(text) };
}

/** A log of command entries from its terms: `logOf([1, 1, 2])` is `[1/1 2/1 3/2]`. */
export function logOf(terms: readonly number[]): Entry[] {
  return terms.map((term, position) => command(position + 1, term));
}

/** How a test core starts: everything a restarted server would read from its disk. */
export interface TestCoreStart {
  readonly id?: string;
  readonly voters?: readonly string[];
  readonly learners?: readonly string[];
  readonly term?: number;
  readonly vote?: string | null;
  readonly commit?: number;
  /** The terms of the stored log, index 1 first. */
  readonly log?: readonly number[];
  readonly settings?: ClusterSettings;
  readonly options?: Omit<RaftCoreOptions, 'id'>;
}

/**
 * A core with the given stored state. Election jitter is fixed at zero, so a follower campaigns
 * after exactly `electionTicks` ticks (10 unless overridden).
 */
export function makeCore(start: TestCoreStart = {}): RaftCore {
  const configuration = configurationOf(start.voters ?? ['1', '2', '3'], {
    learners: start.learners ?? [],
  });
  return new RaftCore(
    { random: () => 0, ...start.options, id: start.id ?? '1' },
    {
      hardState: { term: start.term ?? 0, vote: start.vote ?? null, commit: start.commit ?? 0 },
      snapshot: bootstrapSnapshot(configuration, start.settings ?? plainRaft),
      entries: logOf(start.log ?? []),
    },
  );
}

/** Takes a core's Ready, reports it done, and returns every message it sent, in order. */
export function drain(core: RaftCore): RaftMessage[] {
  if (!core.hasReady()) return [];
  const ready = core.ready();
  core.advance(ready);
  return [...ready.messages, ...ready.messagesAfterPersist];
}

/** The messages of one type, typed accordingly. */
export function ofType<T extends RaftMessageType>(
  messages: readonly RaftMessage[],
  type: T,
): Extract<RaftMessage, { type: T }>[] {
  return messages.filter(
    (message): message is Extract<RaftMessage, { type: T }> => message.type === type,
  );
}

/** The terms of a core's log, index 1 first: the shape `logOf` takes. */
export function termsOf(core: RaftCore): number[] {
  const terms: number[] = [];
  for (let index = 1; index <= core.status().lastIndex; index++) {
    terms.push(core.entry(index)!.term);
  }
  return terms;
}

/**
 * Makes `core` leader by granting it the votes of `voters` (a PreVote round first, when the cluster
 * uses PreVote), and returns what it sent on taking office.
 */
export function electLeader(core: RaftCore, voters: readonly string[]): RaftMessage[] {
  core.campaign();
  drain(core);
  if (core.role === 'pre-candidate') {
    for (const from of voters) {
      core.step(voteGranted({ from, to: core.id, term: core.term + 1, preVote: true }));
    }
    drain(core);
  }
  for (const from of voters) core.step(voteGranted({ from, to: core.id, term: core.term }));
  if (core.role !== 'leader') throw new Error(`${core.id} did not win with ${voters.join(',')}`);
  return drain(core);
}

export function requestVote(fields: {
  from: string;
  to: string;
  term: number;
  lastLogIndex?: number;
  lastLogTerm?: number;
  preVote?: boolean;
  transfer?: boolean;
}): RequestVote {
  return {
    type: 'request-vote',
    lastLogIndex: 0,
    lastLogTerm: 0,
    preVote: false,
    transfer: false,
    ...fields,
  };
}

export function voteGranted(fields: {
  from: string;
  to: string;
  term: number;
  preVote?: boolean;
}): RequestVoteResponse {
  return { type: 'request-vote-response', preVote: false, granted: true, ...fields };
}

export function voteRejected(fields: {
  from: string;
  to: string;
  term: number;
  preVote?: boolean;
}): RequestVoteResponse {
  return { type: 'request-vote-response', preVote: false, granted: false, ...fields };
}

export function appendEntries(fields: {
  from: string;
  to: string;
  term: number;
  prevLogIndex: number;
  prevLogTerm: number;
  entries?: readonly Entry[];
  commit?: number;
}): AppendEntries {
  return { type: 'append-entries', entries: [], commit: 0, ...fields };
}

export function appendAccepted(fields: {
  from: string;
  to: string;
  term: number;
  matchIndex: number;
}): AppendEntriesResponse {
  return {
    type: 'append-entries-response',
    success: true,
    ...fields,
  };
}

export function appendRejected(fields: {
  from: string;
  to: string;
  term: number;
  rejectedIndex: number;
  hintIndex: number;
  hintTerm: number;
  matchIndex?: number;
}): AppendEntriesResponse {
  return { type: 'append-entries-response', success: false, matchIndex: 0, ...fields };
}

export function heartbeat(fields: {
  from: string;
  to: string;
  term: number;
  commit?: number;
}): Heartbeat {
  return { type: 'heartbeat', commit: 0, context: 0, ...fields };
}

/**
 * Delivers `initial`, then passes messages among `cores` until none is left (messages to servers
 * not in the map are lost), and returns every message delivered, in order. Bounded: throws after
 * `roundsMax` rounds.
 */
export function exchange(
  cores: ReadonlyMap<string, RaftCore>,
  initial: readonly RaftMessage[] = [],
  roundsMax = 100,
): RaftMessage[] {
  const delivered: RaftMessage[] = [];
  let inFlight = [...initial];
  for (let round = 0; round < roundsMax; round++) {
    inFlight.push(...[...cores.values()].flatMap((core) => drain(core)));
    if (inFlight.length === 0) return delivered;
    for (const message of inFlight) {
      const target = cores.get(message.to);
      if (target === undefined) continue;
      target.step(message);
      delivered.push(message);
    }
    inFlight = [];
  }
  throw new Error(`messages still flowing after ${roundsMax} rounds`);
}
