export { BinaryReader, BinaryWriter, writerBytesMax, writerInitialBytes } from './binary.js';
export {
  entryCodecDefaults,
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
export { FrameDecoder } from './frame-decoder.js';
export {
  decodeMessage,
  messageCodecDefaults,
  encodeFrame,
  encodeMessage,
  frameHeaderBytes,
  messageBytesMin,
  messageCodecVersion,
  writeMessage,
} from './message-codec.js';
export type { MessageCodecLimits } from './message-codec.js';
export { isRuntimeMessage } from './messages.js';
export type {
  ForwardedSession,
  ForwardOutcome,
  ForwardProposal,
  ForwardResult,
  JoinRequest,
  JoinResponse,
  Message,
  SessionTag,
} from './messages.js';
