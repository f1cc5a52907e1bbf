import type {
  ClusterSettings,
  Configuration,
  Entry,
  HardState,
  SnapshotMeta,
} from '../core/index.js';
import { pooledBytes } from '../platform/byte-slab.js';

/**
 * Deep copies of the values a storage keeps. A storage copies on the way in and on the way out so
 * that a caller mutating an array or a command's bytes can never change what is stored.
 */

/**
 * Copies bytes into a plain `Uint8Array` (never a `Buffer`, whose `slice` returns a view, not a
 * copy). Small copies share slabs ({@link pooledBytes}): a copy may be a view of a larger buffer.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = pooledBytes(bytes.byteLength);
  copy.set(bytes);
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
