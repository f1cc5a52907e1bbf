import fc from 'fast-check';
import type {
  ClusterSettings,
  Configuration,
  Entry,
  HardState,
  NodeId,
  SnapshotMeta,
} from '../core/index.js';
import type { Message } from './messages.js';

/** Non-negative safe integers, biased towards the edges where encodings break. */
export const safeUnsigned = fc.oneof(
  fc.constantFrom(0, 1, 0xff, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER),
  fc.nat(),
  fc.maxSafeNat(),
);

/** Node ids, including non-ASCII text (ids are UTF-8 on the wire). */
export const nodeId: fc.Arbitrary<NodeId> = fc.string({
  unit: 'grapheme',
  minLength: 1,
  maxLength: 12,
});

/** Arbitrary payload bytes. */
export const payload = fc.uint8Array({ maxLength: 64 });

export const configuration: fc.Arbitrary<Configuration> = fc.record({
  voters: fc.array(nodeId, { maxLength: 5 }),
  outgoingVoters: fc.array(nodeId, { maxLength: 5 }),
  learners: fc.array(nodeId, { maxLength: 3 }),
  addresses: fc.dictionary(nodeId, fc.string({ maxLength: 30 }), { maxKeys: 5 }),
});

export const clusterSettings: fc.Arbitrary<ClusterSettings> = fc.record({
  preVote: fc.boolean(),
  checkQuorum: fc.boolean(),
});

export const hardState: fc.Arbitrary<HardState> = fc.record({
  term: safeUnsigned,
  vote: fc.option(nodeId, { nil: null }),
  commit: safeUnsigned,
});

export const snapshotMeta: fc.Arbitrary<SnapshotMeta> = fc.record({
  index: safeUnsigned,
  term: safeUnsigned,
  configuration,
  settings: clusterSettings,
});

export const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({
    kind: fc.constant('command' as const),
    index: safeUnsigned,
    term: safeUnsigned,
    data: payload,
  }),
  fc.record({
    kind: fc.constant('session' as const),
    index: safeUnsigned,
    term: safeUnsigned,
    data: payload,
  }),
  fc.record({ kind: fc.constant('noop' as const), index: safeUnsigned, term: safeUnsigned }),
  fc.record({
    kind: fc.constant('configuration' as const),
    index: safeUnsigned,
    term: safeUnsigned,
    configuration,
  }),
  fc.record({
    kind: fc.constant('settings' as const),
    index: safeUnsigned,
    term: safeUnsigned,
    settings: clusterSettings,
  }),
);

const header = { term: safeUnsigned, from: nodeId, to: nodeId };

/** Every message type, with every field drawn from its whole valid range. */
export const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('request-vote' as const),
    ...header,
    lastLogIndex: safeUnsigned,
    lastLogTerm: safeUnsigned,
    preVote: fc.boolean(),
    transfer: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('request-vote-response' as const),
    ...header,
    preVote: fc.boolean(),
    granted: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('append-entries' as const),
    ...header,
    prevLogIndex: safeUnsigned,
    prevLogTerm: safeUnsigned,
    entries: fc.array(entry, { maxLength: 6 }),
    commit: safeUnsigned,
  }),
  fc.record({
    type: fc.constant('append-entries-response' as const),
    ...header,
    success: fc.constant(true as const),
    matchIndex: safeUnsigned,
  }),
  fc.record({
    type: fc.constant('append-entries-response' as const),
    ...header,
    success: fc.constant(false as const),
    rejectedIndex: safeUnsigned,
    hintIndex: safeUnsigned,
    hintTerm: safeUnsigned,
  }),
  fc.record({
    type: fc.constant('heartbeat' as const),
    ...header,
    commit: safeUnsigned,
    context: safeUnsigned,
  }),
  fc.record({ type: fc.constant('heartbeat-response' as const), ...header, context: safeUnsigned }),
  fc.record({ type: fc.constant('timeout-now' as const), ...header }),
  fc.record({
    type: fc.constant('install-snapshot' as const),
    ...header,
    snapshot: snapshotMeta,
    offset: safeUnsigned,
    data: payload,
    totalBytes: safeUnsigned,
    checksum: fc.integer({ min: 0, max: 0xffff_ffff }),
    done: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('install-snapshot-response' as const),
    ...header,
    snapshotIndex: safeUnsigned,
    bytesReceived: safeUnsigned,
    success: fc.boolean(),
  }),
  fc.record({ type: fc.constant('read-index' as const), ...header, context: safeUnsigned }),
  fc.record({
    type: fc.constant('read-index-response' as const),
    ...header,
    context: safeUnsigned,
    index: fc.oneof(fc.constant(-1), safeUnsigned),
  }),
  fc.record({
    type: fc.constant('forward-proposal' as const),
    from: nodeId,
    to: nodeId,
    requestId: safeUnsigned,
    commands: fc.array(payload, { maxLength: 4 }),
  }),
  // Commands of client sessions: a registration and a numbered command beside a plain one.
  fc.record({
    type: fc.constant('forward-proposal' as const),
    from: nodeId,
    to: nodeId,
    requestId: safeUnsigned,
    commands: fc.tuple(payload, payload, payload),
    sessions: fc.tuple(
      fc.constant({ kind: 'register' as const, position: 0 }),
      fc.record({
        kind: fc.constant('command' as const),
        position: fc.constant(2),
        sessionId: safeUnsigned,
        sequence: safeUnsigned,
        lowestUnacknowledged: safeUnsigned,
      }),
    ),
  }),
  fc.record({
    type: fc.constant('forward-result' as const),
    from: nodeId,
    to: nodeId,
    requestId: safeUnsigned,
    outcomes: fc.array(
      fc.oneof(
        fc.record({ status: fc.constant('applied' as const), result: payload }),
        fc.record({
          status: fc.constant('failed' as const),
          code: fc.constantFrom('NOT_LEADER', 'PROPOSAL_DROPPED', 'STORAGE_FAILED' as const),
          message: fc.string({ maxLength: 40 }),
          outcome: fc.constantFrom('not-applied', 'unknown', 'applied' as const),
          reason: fc.constant(null),
        }),
        // Only a state machine's rejection carries a reason.
        fc.record({
          status: fc.constant('failed' as const),
          code: fc.constant('COMMAND_REJECTED' as const),
          message: fc.string({ maxLength: 40 }),
          outcome: fc.constant('not-applied' as const),
          reason: fc.string({ maxLength: 20 }),
        }),
      ),
      { maxLength: 4 },
    ),
    leaderId: fc.option(nodeId, { nil: null }),
  }),
  fc.record({
    type: fc.constant('join-request' as const),
    from: nodeId,
    to: nodeId,
    requestId: safeUnsigned,
  }),
  fc.record({
    type: fc.constant('join-response' as const),
    from: nodeId,
    to: nodeId,
    requestId: safeUnsigned,
    leaderId: fc.option(nodeId, { nil: null }),
    configuration: fc.option(configuration, { nil: null }),
    errorCode: fc.option(fc.constantFrom('DATA_LOST'), { nil: null }),
    errorMessage: fc.string({ maxLength: 40 }),
  }),
);
