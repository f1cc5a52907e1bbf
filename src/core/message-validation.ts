import { membersOf } from './configuration.js';
import {
  raftMessageTypes,
  type AppendEntries,
  type AppendEntriesResponse,
  type InstallSnapshot,
  type InstallSnapshotResponse,
  type RaftMessage,
  type RequestVote,
} from './messages.js';
import type { CoreState } from './state.js';
import type { ClusterSettings, Configuration, Entry } from './types.js';

/**
 * The checks a peer's message passes before it reaches the protocol. A message from another server
 * is input, not a promise kept by our own code: a buggy, outdated or hostile peer can send anything
 * the codec lets through. Invariants deeper in the core (consecutive log indexes, terms that never
 * decrease) exist to catch bugs in this code base; a peer's message must never be able to trip
 * them and stop the node. So every field the protocol relies on is checked here, and a message
 * that fails is dropped whole, before any state changes.
 */

/** Why a message is unacceptable, or null when it may be processed. */
export function findMessageProblem(state: CoreState, message: RaftMessage): string | null {
  if (typeof message !== 'object' || message === null) return 'not a message';
  if (!raftMessageTypes.includes(message.type))
    return `unknown message type ${String(message.type)}`;
  if (!isLogPosition(message.term)) return `term ${String(message.term)} is not a valid term`;
  const senderProblem = findSenderProblem(state, message);
  if (senderProblem !== null) return senderProblem;
  return findFieldProblem(state, message);
}

function findSenderProblem(state: CoreState, message: RaftMessage): string | null {
  const from: unknown = message.from;
  if (typeof from !== 'string' || from.length === 0)
    return 'the sender id is not a non-empty string';
  if (from === state.id) return 'a message claims to come from its receiver';
  // Only a stranger's order to campaign is refused. Anything else may come from a leader this
  // server has not heard of yet, added in a configuration it has not received: refusing that
  // leader would leave it behind for good. A stranger's vote request is answered or ignored by
  // the protocol (`mayCampaign` in step.ts): a candidate added while this server lagged needs its
  // vote, and refusing it here left a cluster whose quorum needed the lagging server without a
  // leader for good; a removed server's request is still ignored there, its log lacking the
  // removal.
  if (message.type !== 'timeout-now') return null;
  // A server waiting to be added knows no members yet.
  if (membersOf(state.configuration).length === 0) return null;
  for (const { value } of state.configurations) {
    if (membersOf(value).includes(from)) return null;
  }
  return `${from} is not a member of any configuration this server knows`;
}

function findFieldProblem(state: CoreState, message: RaftMessage): string | null {
  switch (message.type) {
    case 'request-vote':
      return findVoteRequestProblem(message);
    case 'request-vote-response':
      return firstProblem([booleans(message, ['preVote', 'granted'])]);
    case 'append-entries':
      return findAppendProblem(message);
    case 'append-entries-response':
      return findAppendResponseProblem(state, message);
    case 'heartbeat':
      return firstProblem([positions(message, ['commit', 'context'])]);
    case 'heartbeat-response':
      return positions(message, ['context']);
    case 'timeout-now':
      return null;
    case 'install-snapshot':
      return findSnapshotProblem(message);
    case 'install-snapshot-response':
      return findSnapshotResponseProblem(state, message);
    case 'read-index':
      return message.context >= 1
        ? positions(message, ['context'])
        : 'read context must be positive';
    case 'read-index-response':
      return findReadIndexResponseProblem(message.context, message.index);
  }
}

function findVoteRequestProblem(message: RequestVote): string | null {
  return firstProblem([
    positions(message, ['lastLogIndex', 'lastLogTerm']),
    booleans(message, ['preVote', 'transfer']),
    message.lastLogTerm > message.term ? 'the last log term is above the campaign term' : null,
    message.lastLogIndex === 0 && message.lastLogTerm !== 0
      ? 'an empty log has no last term'
      : null,
  ]);
}

function findAppendProblem(message: AppendEntries): string | null {
  const fieldProblem = firstProblem([
    positions(message, ['prevLogIndex', 'prevLogTerm', 'commit']),
    message.prevLogTerm > message.term ? 'prevLogTerm is above the message term' : null,
    message.prevLogIndex === 0 && message.prevLogTerm !== 0 ? 'index 0 has term 0' : null,
    Array.isArray(message.entries) ? null : 'entries is not a list',
  ]);
  if (fieldProblem !== null) return fieldProblem;
  let previousTerm = message.prevLogTerm;
  for (let position = 0; position < message.entries.length; position++) {
    const entry = message.entries[position]!;
    const expectedIndex = message.prevLogIndex + 1 + position;
    const problem = findEntryProblem(entry);
    if (problem !== null) return `entry ${expectedIndex}: ${problem}`;
    if (entry.index !== expectedIndex) {
      return `entry indexes must follow prevLogIndex: expected ${expectedIndex}, got ${entry.index}`;
    }
    if (entry.term < previousTerm)
      return `entry ${entry.index} has a lower term than the one before`;
    if (entry.term > message.term) return `entry ${entry.index} has a term above the message term`;
    previousTerm = entry.term;
  }
  return null;
}

function findAppendResponseProblem(
  state: CoreState,
  message: AppendEntriesResponse,
): string | null {
  const problem = firstProblem([
    booleans(message, ['success']),
    message.success
      ? positions(message, ['matchIndex'])
      : positions(message, ['rejectedIndex', 'hintIndex', 'hintTerm']),
    !message.success && message.hintTerm > message.term
      ? 'hintTerm is above the message term'
      : null,
  ]);
  if (problem !== null) return problem;
  // A follower of this very term can hold only entries its leader sent: nothing past our log.
  const ourLeaderTerm = state.role === 'leader' && message.term === state.term;
  if (ourLeaderTerm && message.success && message.matchIndex > state.log.lastIndex) {
    return `matchIndex ${message.matchIndex} is beyond the leader's last index ${state.log.lastIndex}`;
  }
  return null;
}

function findSnapshotProblem(message: InstallSnapshot): string | null {
  const snapshot = message.snapshot as InstallSnapshot['snapshot'] | null;
  if (typeof snapshot !== 'object' || snapshot === null) return 'the snapshot marker is missing';
  const fieldProblem = firstProblem([
    positions(message, ['offset', 'totalBytes', 'checksum']),
    booleans(message, ['done']),
    message.checksum > 0xffffffff ? 'checksum is not a 32-bit value' : null,
    message.data instanceof Uint8Array ? null : 'snapshot data is not bytes',
    positions(snapshot, ['index', 'term']),
  ]);
  if (fieldProblem !== null) return fieldProblem;
  const chunkEnd = message.offset + message.data.byteLength;
  return firstProblem([
    chunkEnd > message.totalBytes ? 'the chunk ends past the snapshot size' : null,
    // A chunk that carries nothing before the end would make a receiver answer without progress.
    message.data.byteLength === 0 && message.offset !== message.totalBytes
      ? 'an empty chunk before the end of the snapshot'
      : null,
    message.done !== (chunkEnd === message.totalBytes)
      ? `done is ${String(message.done)} for a chunk ending at ${chunkEnd} of ${message.totalBytes}`
      : null,
    // Index 0 is the empty log every server starts from; nobody sends it.
    snapshot.index === 0 ? 'a snapshot at index 0' : null,
    snapshot.term === 0 ? 'a snapshot with term 0' : null,
    snapshot.term > message.term ? 'the snapshot term is above the message term' : null,
    findConfigurationProblem(snapshot.configuration),
    snapshot.configuration?.voters?.length === 0
      ? 'the snapshot configuration has no voters'
      : null,
    findSettingsProblem(snapshot.settings),
  ]);
}

function findSnapshotResponseProblem(
  state: CoreState,
  message: InstallSnapshotResponse,
): string | null {
  const problem = firstProblem([
    positions(message, ['snapshotIndex', 'bytesReceived']),
    booleans(message, ['success']),
    message.snapshotIndex === 0 ? 'a snapshot at index 0' : null,
  ]);
  if (problem !== null) return problem;
  // A leader sends only snapshots of its own log, never past its end.
  const ourLeaderTerm = state.role === 'leader' && message.term === state.term;
  if (ourLeaderTerm && message.snapshotIndex > state.log.lastIndex) {
    return `snapshotIndex ${message.snapshotIndex} is beyond the leader's last index ${state.log.lastIndex}`;
  }
  return null;
}

function findReadIndexResponseProblem(context: number, index: number): string | null {
  if (!Number.isSafeInteger(context) || context < 1) return 'read context must be positive';
  // -1 is the leader's "could not confirm" answer.
  if (!Number.isSafeInteger(index) || index < -1) return `read index ${String(index)} is invalid`;
  return null;
}

function findEntryProblem(entry: Entry): string | null {
  if (typeof entry !== 'object' || entry === null) return 'not an entry';
  // Read by name rather than through \`positions\`: this runs for every entry of every append, and
  // a lookup by a name from a list is a slow generic one where the same code sees many shapes.
  if (!isLogPosition(entry.index)) return notPosition('index', entry.index);
  if (!isLogPosition(entry.term)) return notPosition('term', entry.term);
  switch (entry.kind) {
    case 'command':
    case 'session':
      return entry.data instanceof Uint8Array ? null : `${entry.kind} data is not bytes`;
    case 'noop':
      return null;
    case 'configuration':
      return findConfigurationProblem(entry.configuration);
    case 'settings':
      return findSettingsProblem(entry.settings);
    default:
      return `unknown entry kind ${String((entry as { kind?: unknown }).kind)}`;
  }
}

function findConfigurationProblem(configuration: Configuration): string | null {
  if (typeof configuration !== 'object' || configuration === null) return 'no configuration';
  const lists = [configuration.voters, configuration.outgoingVoters, configuration.learners];
  for (const list of lists) {
    if (!Array.isArray(list)) return 'a configuration member list is not a list';
    if (new Set(list).size !== list.length) return 'a configuration lists a member twice';
    for (const id of list as unknown[]) {
      if (typeof id !== 'string' || id.length === 0) return 'a configuration has an empty id';
    }
  }
  for (const learner of configuration.learners) {
    if (configuration.voters.includes(learner) || configuration.outgoingVoters.includes(learner)) {
      return `${learner} is both a voter and a learner`;
    }
  }
  if (typeof configuration.addresses !== 'object' || configuration.addresses === null) {
    return 'configuration addresses are missing';
  }
  return null;
}

function findSettingsProblem(settings: ClusterSettings): string | null {
  if (typeof settings !== 'object' || settings === null) return 'no settings';
  return booleans(settings, ['preVote', 'checkQuorum']);
}

/** Log indexes, terms, offsets and contexts: safe integers, never negative. */
function isLogPosition(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function positions<T extends object>(
  value: T,
  names: readonly (keyof T & string)[],
): string | null {
  for (const name of names) {
    if (!isLogPosition(value[name])) return notPosition(name, value[name]);
  }
  return null;
}

function notPosition(name: string, value: unknown): string {
  return `${name} ${String(value)} is not a non-negative safe integer`;
}

function booleans<T extends object>(value: T, names: readonly (keyof T & string)[]): string | null {
  for (const name of names) {
    if (typeof value[name] !== 'boolean') return `${name} is not a boolean`;
  }
  return null;
}

function firstProblem(problems: readonly (string | null)[]): string | null {
  return problems.find((problem) => problem !== null) ?? null;
}
