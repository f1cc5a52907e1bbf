export { BinaryReader, BinaryWriter, writerBytesMax, writerInitialBytes } from './binary.js';
export {
  defaultEntryCodecLimits,
  entryBytesMin,
  readClusterSettings,
  readConfiguration,
  readEntry,
  readHardState,
  readSnapshotMeta,
  writeClusterSettings,
  writeConfiguration,
  writeEntry,
  writeHardState,
  writeSnapshotMeta,
} from './entry-codec.js';
export type { EntryCodecLimits } from './entry-codec.js';
