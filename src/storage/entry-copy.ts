import type {
  ClusterSettings,
  Configuration,
  Entry,
  HardState,
  SnapshotMeta,
} from '../core/index.js';

/**
 * Deep copies of the values a storage keeps. A storage copies on the way in and on the way out so
 * that a caller mutating an array or a command's bytes can never change what is stored.
 */

/** Copies of at most this many bytes share slabs; larger ones get an allocation of their own. */
const pooledCopyBytesMax = 512;
/** Slab size: 16 copies of the largest pooled size, so a slab is filled before it is dropped. */
const slabBytes = 8192;
let slab = new ArrayBuffer(slabBytes);
let slabOffset = 0;

/**
 * Copies bytes into a plain `Uint8Array` (never a `Buffer`, whose `slice` returns a view, not a
 * copy). Small copies are carved out of shared slabs, as Node's own buffer pool does: V8 gives
 * every typed array of more than 64 bytes a backing store of its own, whose allocation and
 * collection cost several times the copy itself (most of a memory-storage save, measured with
 * `node --cpu-prof` on `npm run bench:node`). A pooled copy is a view of its slab: code that
 * reaches for `.buffer` must use `byteOffset` and `byteLength`, as it must for any view. A slab
 * is freed once every copy in it is, and entries are dropped in log order, so slabs go in order.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const length = bytes.byteLength;
  if (length > pooledCopyBytesMax) return new Uint8Array(bytes);
  if (slabOffset + length > slabBytes) {
    slab = new ArrayBuffer(slabBytes);
    slabOffset = 0;
  }
  const copy = new Uint8Array(slab, slabOffset, length);
  copy.set(bytes);
  // Eight-byte alignment keeps a later DataView over the copy on aligned addresses.
  slabOffset += (length + 7) & ~7;
  return copy;
}

/** Copies a configuration, including its member lists and address map. */
export function copyConfiguration(configuration: Configuration): Configuration {
  return {
    voters: [...configuration.voters],
    outgoingVoters: [...configuration.outgoingVoters],
    learners: [...configuration.learners],
    addresses: { ...configuration.addresses },
  };
}

/** Copies cluster settings. */
export function copySettings(settings: ClusterSettings): ClusterSettings {
  return { preVote: settings.preVote, checkQuorum: settings.checkQuorum };
}

/** Copies a hard state. */
export function copyHardState(hardState: HardState): HardState {
  return { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
}

/** Copies a snapshot marker with its configuration and settings. */
export function copySnapshotMeta(snapshot: SnapshotMeta): SnapshotMeta {
  return {
    index: snapshot.index,
    term: snapshot.term,
    configuration: copyConfiguration(snapshot.configuration),
    settings: copySettings(snapshot.settings),
  };
}

/**
 * Copies an entry. Command bytes always come back as a plain `Uint8Array` (never a `Buffer`), so
 * stored commands compare equal to what was saved.
 */
export function copyEntry(entry: Entry): Entry {
  switch (entry.kind) {
    case 'command':
    case 'session':
      return {
        kind: entry.kind,
        index: entry.index,
        term: entry.term,
        data: copyBytes(entry.data),
      };
    case 'noop':
      return { kind: 'noop', index: entry.index, term: entry.term };
    case 'configuration':
      return {
        kind: 'configuration',
        index: entry.index,
        term: entry.term,
        configuration: copyConfiguration(entry.configuration),
      };
    case 'settings':
      return {
        kind: 'settings',
        index: entry.index,
        term: entry.term,
        settings: copySettings(entry.settings),
      };
  }
}
