import fc from 'fast-check';
import type {
  ClusterSettings,
  Configuration,
  Entry,
  HardState,
  NodeId,
  SnapshotMeta,
} from '../core/types.js';

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
