import { RaftError } from '../core/index.js';
import type {
  ClusterSettings,
  Configuration,
  Entry,
  EntryKind,
  HardState,
  NodeId,
  SnapshotMeta,
} from '../core/index.js';
import type { BinaryReader, BinaryWriter } from './binary.js';

/**
 * Upper bounds the readers enforce, so a corrupt file or a hostile peer cannot make them allocate
 * without limit. Writers do not check them: the frame or record size limit catches oversized values.
 */
export interface EntryCodecLimits {
  /** Largest command payload. */
  readonly commandBytesMax: number;
  /** Largest number of node ids in one member list (voters, outgoing voters, learners, addresses). */
  readonly membersMax: number;
  /** Longest node id, in UTF-8 bytes. */
  readonly nodeIdBytesMax: number;
  /** Longest address, in UTF-8 bytes. */
  readonly addressBytesMax: number;
}

/** Limits generous enough for any sane cluster and small enough to refuse garbage early. */
export const entryCodecDefaults: EntryCodecLimits = Object.freeze({
  commandBytesMax: 64 * 1024 * 1024,
  membersMax: 1024,
  nodeIdBytesMax: 256,
  addressBytesMax: 1024,
});

// Wire codes are part of the format: never renumber, only append.
const entryKindCodes: Readonly<Record<EntryKind, number>> = {
  command: 1,
  noop: 2,
  configuration: 3,
  settings: 4,
  session: 5,
};

/** The smallest encoding of an entry (kind, index, term), used to bound entry counts. */
export const entryBytesMin = 1 + 8 + 8;

// A length-prefixed string is at least its 4-byte length.
const stringBytesMin = 4;

/** Appends an entry: kind code, index, term, then the kind's payload. */
export function writeEntry(writer: BinaryWriter, entry: Entry): void {
  const code = (entryKindCodes as Record<string, number | undefined>)[entry.kind];
  if (code === undefined) {
    throw new RaftError('INVALID_MESSAGE', `unknown entry kind ${String(entry.kind)}`);
  }
  writer.u8(code).u64(entry.index).u64(entry.term);
  switch (entry.kind) {
    case 'command':
    case 'session':
      writer.bytes(entry.data);
      return;
    case 'noop':
      return;
    case 'configuration':
      writeConfiguration(writer, entry.configuration);
      return;
    case 'settings':
      writeClusterSettings(writer, entry.settings);
      return;
  }
}

/**
 * Reads an entry written by {@link writeEntry}. A command's `data` is a view into the reader's
 * input, not a copy. Unknown kinds and values over `limits` throw RaftError `INVALID_MESSAGE`.
 */
export function readEntry(
  reader: BinaryReader,
  limits: EntryCodecLimits = entryCodecDefaults,
): Entry {
  const code = reader.u8();
  const index = reader.u64();
  const term = reader.u64();
  switch (code) {
    case entryKindCodes.command:
      return { kind: 'command', index, term, data: reader.bytes(limits.commandBytesMax) };
    case entryKindCodes.session:
      return { kind: 'session', index, term, data: reader.bytes(limits.commandBytesMax) };
    case entryKindCodes.noop:
      return { kind: 'noop', index, term };
    case entryKindCodes.configuration:
      return {
        kind: 'configuration',
        index,
        term,
        configuration: readConfiguration(reader, limits),
      };
    case entryKindCodes.settings:
      return { kind: 'settings', index, term, settings: readClusterSettings(reader) };
    default:
      throw new RaftError('INVALID_MESSAGE', `unknown entry kind code ${String(code)}`);
  }
}

function writeNodeIds(writer: BinaryWriter, ids: readonly NodeId[]): void {
  writer.u32(ids.length);
  for (const id of ids) writer.string(id);
}

function readNodeIds(reader: BinaryReader, limits: EntryCodecLimits, what: string): NodeId[] {
  const count = reader.count(limits.membersMax, stringBytesMin, what);
  const ids: NodeId[] = [];
  for (let position = 0; position < count; position++) {
    ids.push(reader.string(limits.nodeIdBytesMax));
  }
  return ids;
}

/** Appends a configuration: voters, outgoing voters, learners, then the address pairs. */
export function writeConfiguration(writer: BinaryWriter, configuration: Configuration): void {
  writeNodeIds(writer, configuration.voters);
  writeNodeIds(writer, configuration.outgoingVoters);
  writeNodeIds(writer, configuration.learners);
  const addresses = Object.entries(configuration.addresses);
  writer.u32(addresses.length);
  for (const [id, address] of addresses) writer.string(id).string(address);
}

/** Reads a configuration written by {@link writeConfiguration}; a repeated address key is invalid. */
export function readConfiguration(
  reader: BinaryReader,
  limits: EntryCodecLimits = entryCodecDefaults,
): Configuration {
  const voters = readNodeIds(reader, limits, 'voters');
  const outgoingVoters = readNodeIds(reader, limits, 'outgoing voters');
  const learners = readNodeIds(reader, limits, 'learners');
  const count = reader.count(limits.membersMax, 2 * stringBytesMin, 'addresses');
  const pairs: [NodeId, string][] = [];
  const seen = new Set<NodeId>();
  for (let position = 0; position < count; position++) {
    const id = reader.string(limits.nodeIdBytesMax);
    const address = reader.string(limits.addressBytesMax);
    if (seen.has(id)) throw new RaftError('INVALID_MESSAGE', `address of ${id} appears twice`);
    seen.add(id);
    pairs.push([id, address]);
  }
  // fromEntries defines own properties, so an id such as "__proto__" stays plain data.
  return { voters, outgoingVoters, learners, addresses: Object.fromEntries(pairs) };
}

/** Appends cluster settings. */
export function writeClusterSettings(writer: BinaryWriter, settings: ClusterSettings): void {
  writer.boolean(settings.preVote).boolean(settings.checkQuorum);
}

/** Reads cluster settings written by {@link writeClusterSettings}. */
export function readClusterSettings(reader: BinaryReader): ClusterSettings {
  const preVote = reader.boolean();
  const checkQuorum = reader.boolean();
  return { preVote, checkQuorum };
}

/** Appends a hard state; a missing vote is a 0 flag byte, a present one is 1 and the id. */
export function writeHardState(writer: BinaryWriter, hardState: HardState): void {
  writer.u64(hardState.term);
  writer.boolean(hardState.vote !== null);
  if (hardState.vote !== null) writer.string(hardState.vote);
  writer.u64(hardState.commit);
}

/** Reads a hard state written by {@link writeHardState}. */
export function readHardState(
  reader: BinaryReader,
  limits: EntryCodecLimits = entryCodecDefaults,
): HardState {
  const term = reader.u64();
  const vote = reader.boolean() ? reader.string(limits.nodeIdBytesMax) : null;
  const commit = reader.u64();
  return { term, vote, commit };
}

/** Appends snapshot metadata: index, term, configuration, settings. */
export function writeSnapshotMeta(writer: BinaryWriter, snapshot: SnapshotMeta): void {
  writer.u64(snapshot.index).u64(snapshot.term);
  writeConfiguration(writer, snapshot.configuration);
  writeClusterSettings(writer, snapshot.settings);
}

/** Reads snapshot metadata written by {@link writeSnapshotMeta}. */
export function readSnapshotMeta(
  reader: BinaryReader,
  limits: EntryCodecLimits = entryCodecDefaults,
): SnapshotMeta {
  const index = reader.u64();
  const term = reader.u64();
  const configuration = readConfiguration(reader, limits);
  const settings = readClusterSettings(reader);
  return { index, term, configuration, settings };
}
