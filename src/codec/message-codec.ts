import { entryPayload, isRaftErrorCode, RaftError } from '../core/index.js';
import type {
  AppendEntries,
  AppendEntriesResponse,
  Heartbeat,
  HeartbeatResponse,
  InstallSnapshot,
  InstallSnapshotResponse,
  ReadIndexRequest,
  ReadIndexResponse,
  RequestVote,
  RequestVoteResponse,
  TimeoutNow,
} from '../core/index.js';
import type { Entry, RequestOutcome } from '../core/index.js';
import {
  isRuntimeMessage,
  type ForwardOutcome,
  type ForwardProposal,
  type ForwardResult,
  type ForwardedSession,
  type JoinRequest,
  type JoinResponse,
  type Message,
} from './messages.js';
import { BinaryReader, BinaryWriter } from './binary.js';
import {
  entryCodecDefaults,
  entryBytesMin,
  readEntry,
  readConfiguration,
  readSnapshotMeta,
  writeConfiguration,
  writeEntry,
  writeSnapshotMeta,
  type EntryCodecLimits,
} from './entry-codec.js';

/** The encoding version this codec writes and the only one it reads. */
export const messageCodecVersion = 1;

/** Bytes of the length prefix in front of every frame. */
export const frameHeaderBytes = 4;

/** Upper bounds the decoder enforces on untrusted input; the encoder refuses what would break them. */
export interface MessageCodecLimits extends EntryCodecLimits {
  /** Largest encoded message (a frame's body, without its length prefix). */
  readonly messageBytesMax: number;
  /** Most entries in one append. */
  readonly entriesPerMessageMax: number;
  /** Most commands in one forwarded proposal (and outcomes in its result). */
  readonly commandsPerMessageMax: number;
  /** Longest error message in a forwarded result, in UTF-8 bytes. */
  readonly errorMessageBytesMax: number;
}

/** Defaults sized for snapshot chunks and large appends, small enough to refuse a hostile frame. */
export const messageCodecDefaults: MessageCodecLimits = Object.freeze({
  ...entryCodecDefaults,
  messageBytesMax: 16 * 1024 * 1024,
  entriesPerMessageMax: 65_536,
  commandsPerMessageMax: 65_536,
  errorMessageBytesMax: 64 * 1024,
});

type MessageType = Message['type'];
type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

interface MessageFormat<T extends MessageType> {
  /** The wire code: part of the format, never renumbered. */
  readonly code: number;
  write(writer: BinaryWriter, message: MessageOf<T>): void;
  /** Reads the fields after the common header. */
  read(reader: BinaryReader, header: Header, limits: MessageCodecLimits): MessageOf<T>;
}

// Raft messages start with term, from, to; forwarding messages have no term and use requestId.
interface Header {
  readonly term: number;
  readonly from: string;
  readonly to: string;
}

const stringBytesMin = 4;

const requestVote: MessageFormat<'request-vote'> = {
  code: 1,
  write: (writer, message) =>
    writer
      .u64(message.lastLogIndex)
      .u64(message.lastLogTerm)
      .boolean(message.preVote)
      .boolean(message.transfer),
  read: (reader, header): RequestVote => ({
    type: 'request-vote',
    ...header,
    lastLogIndex: reader.u64(),
    lastLogTerm: reader.u64(),
    preVote: reader.boolean(),
    transfer: reader.boolean(),
  }),
};

const requestVoteResponse: MessageFormat<'request-vote-response'> = {
  code: 2,
  write: (writer, message) => writer.boolean(message.preVote).boolean(message.granted),
  read: (reader, header): RequestVoteResponse => ({
    type: 'request-vote-response',
    ...header,
    preVote: reader.boolean(),
    granted: reader.boolean(),
  }),
};

const appendEntries: MessageFormat<'append-entries'> = {
  code: 3,
  write: (writer, message) => {
    writer.u64(message.prevLogIndex).u64(message.prevLogTerm).u64(message.commit);
    writer.u32(message.entries.length);
    for (const entry of message.entries) writeEntry(writer, entry);
  },
  read: (reader, header, limits): AppendEntries => {
    const prevLogIndex = reader.u64();
    const prevLogTerm = reader.u64();
    const commit = reader.u64();
    const count = reader.count(limits.entriesPerMessageMax, entryBytesMin, 'entries');
    const entries: Entry[] = [];
    for (let position = 0; position < count; position++) entries.push(readEntry(reader, limits));
    return { type: 'append-entries', ...header, prevLogIndex, prevLogTerm, entries, commit };
  },
};

const appendEntriesResponse: MessageFormat<'append-entries-response'> = {
  code: 4,
  // Both kinds keep one layout, the fields of the other kind written as 0, so the frame format
  // did not change when the message type split into accepted and rejected.
  write: (writer, message) =>
    message.success
      ? writer.boolean(true).u64(message.matchIndex).u64(0).u64(0).u64(0)
      : writer
          .boolean(false)
          .u64(0)
          .u64(message.rejectedIndex)
          .u64(message.hintIndex)
          .u64(message.hintTerm),
  read: (reader, header): AppendEntriesResponse => {
    const success = reader.boolean();
    const matchIndex = reader.u64();
    const rejectedIndex = reader.u64();
    const hintIndex = reader.u64();
    const hintTerm = reader.u64();
    // One encoding per message: the fields of the other kind must be the zeros written for them.
    if (success ? rejectedIndex + hintIndex + hintTerm !== 0 : matchIndex !== 0) {
      throw new RaftError('INVALID_MESSAGE', 'append response carries fields of the other kind');
    }
    return success
      ? { type: 'append-entries-response', ...header, success, matchIndex }
      : { type: 'append-entries-response', ...header, success, rejectedIndex, hintIndex, hintTerm };
  },
};

const heartbeat: MessageFormat<'heartbeat'> = {
  code: 5,
  write: (writer, message) => writer.u64(message.commit).u64(message.context),
  read: (reader, header): Heartbeat => ({
    type: 'heartbeat',
    ...header,
    commit: reader.u64(),
    context: reader.u64(),
  }),
};

const heartbeatResponse: MessageFormat<'heartbeat-response'> = {
  code: 6,
  write: (writer, message) => writer.u64(message.context),
  read: (reader, header): HeartbeatResponse => ({
    type: 'heartbeat-response',
    ...header,
    context: reader.u64(),
  }),
};

const timeoutNow: MessageFormat<'timeout-now'> = {
  code: 7,
  write: () => undefined,
  read: (_reader, header): TimeoutNow => ({ type: 'timeout-now', ...header }),
};

const installSnapshot: MessageFormat<'install-snapshot'> = {
  code: 8,
  write: (writer, message) => {
    writeSnapshotMeta(writer, message.snapshot);
    writer.u64(message.offset).bytes(message.data).u64(message.totalBytes);
    writer.u32(message.checksum).boolean(message.done);
  },
  read: (reader, header, limits): InstallSnapshot => ({
    type: 'install-snapshot',
    ...header,
    snapshot: readSnapshotMeta(reader, limits),
    offset: reader.u64(),
    data: reader.bytes(limits.messageBytesMax),
    totalBytes: reader.u64(),
    checksum: reader.u32(),
    done: reader.boolean(),
  }),
};

const installSnapshotResponse: MessageFormat<'install-snapshot-response'> = {
  code: 9,
  write: (writer, message) =>
    writer.u64(message.snapshotIndex).u64(message.bytesReceived).boolean(message.success),
  read: (reader, header): InstallSnapshotResponse => ({
    type: 'install-snapshot-response',
    ...header,
    snapshotIndex: reader.u64(),
    bytesReceived: reader.u64(),
    success: reader.boolean(),
  }),
};

const readIndex: MessageFormat<'read-index'> = {
  code: 10,
  write: (writer, message) => writer.u64(message.context),
  read: (reader, header): ReadIndexRequest => ({
    type: 'read-index',
    ...header,
    context: reader.u64(),
  }),
};

const readIndexResponse: MessageFormat<'read-index-response'> = {
  code: 11,
  // The index is -1 when the leader could not confirm it, hence signed.
  write: (writer, message) => {
    if (message.index < -1) throw new RaftError('INVALID_MESSAGE', `read index ${message.index}`);
    writer.u64(message.context).i64(message.index);
  },
  read: (reader, header): ReadIndexResponse => {
    const context = reader.u64();
    const index = reader.i64();
    if (index < -1) throw new RaftError('INVALID_MESSAGE', `read index ${index} below -1`);
    return { type: 'read-index-response', ...header, context, index };
  },
};

function writeByteList(writer: BinaryWriter, list: readonly Uint8Array[]): void {
  writer.u32(list.length);
  for (const item of list) writer.bytes(item);
}

function readByteList(reader: BinaryReader, limits: MessageCodecLimits, what: string) {
  const count = reader.count(limits.commandsPerMessageMax, 4, what);
  const list: Uint8Array[] = [];
  for (let position = 0; position < count; position++) {
    list.push(reader.bytes(limits.commandBytesMax));
  }
  return list;
}

function writeOptionalString(writer: BinaryWriter, value: string | null): void {
  writer.boolean(value !== null);
  if (value !== null) writer.string(value);
}

function readOptionalString(reader: BinaryReader, bytesMax: number): string | null {
  return reader.boolean() ? reader.string(bytesMax) : null;
}

// The forwarding messages carry no term: the header's term slot holds the request id instead.
const forwardProposal: MessageFormat<'forward-proposal'> = {
  code: 12,
  write: (writer, message) => {
    writeByteList(writer, message.commands);
    writeForwardedSessions(writer, message.sessions ?? []);
  },
  read: (reader, header, limits): ForwardProposal => {
    const commands = readByteList(reader, limits, 'commands');
    const sessions = readForwardedSessions(reader, commands.length);
    return {
      type: 'forward-proposal',
      from: header.from,
      to: header.to,
      requestId: header.term,
      commands,
      ...(sessions.length === 0 ? {} : { sessions }),
    };
  },
};

// Session tags travel after the commands: a count, then position, kind and the numbers.
const sessionTagCodes = { register: 1, command: 2 } as const;

function writeForwardedSessions(writer: BinaryWriter, sessions: readonly ForwardedSession[]): void {
  writer.u32(sessions.length);
  for (const session of sessions) {
    writer.u32(session.position).u8(sessionTagCodes[session.kind]);
    if (session.kind === 'command') {
      writer.u64(session.sessionId).u64(session.sequence).u64(session.lowestUnacknowledged);
    }
  }
}

function readForwardedSessions(reader: BinaryReader, commandCount: number): ForwardedSession[] {
  const count = reader.count(commandCount, 5, 'sessions');
  const sessions: ForwardedSession[] = [];
  let previous = -1;
  for (let item = 0; item < count; item++) {
    const position = reader.u32();
    // Strictly increasing positions: each command has one session at most, all of them in range.
    if (position <= previous || position >= commandCount) {
      throw new RaftError(
        'INVALID_MESSAGE',
        `session position ${position} is out of order or range`,
      );
    }
    previous = position;
    const code = reader.u8();
    if (code === sessionTagCodes.register) {
      sessions.push({ kind: 'register', position });
    } else if (code === sessionTagCodes.command) {
      const sessionId = reader.u64();
      const sequence = reader.u64();
      const lowestUnacknowledged = reader.u64();
      sessions.push({ kind: 'command', position, sessionId, sequence, lowestUnacknowledged });
    } else {
      throw new RaftError('INVALID_MESSAGE', `unknown session tag code ${String(code)}`);
    }
  }
  return sessions;
}

// Smallest encoded outcome: a status byte and an empty result's length.
const outcomeBytesMin = 1 + 4;

/**
 * The status byte of a forwarded outcome: 0 is applied, with its result; the others are failures,
 * each saying what the failure did to the command. Status 1, a failure that did not say, is what
 * earlier releases send; it is still read, as `unknown`, the side that never invites a second
 * apply.
 */
const appliedStatus = 0;
const unsaidFailureStatus = 1;
const failureStatuses: ReadonlyMap<RequestOutcome, number> = new Map([
  ['not-applied', 2],
  ['unknown', 3],
  ['applied', 4],
]);
const failureOutcomes: ReadonlyMap<number, RequestOutcome> = new Map([
  [unsaidFailureStatus, 'unknown'],
  ...[...failureStatuses].map(([outcome, status]): [number, RequestOutcome] => [status, outcome]),
]);

function writeOutcome(writer: BinaryWriter, outcome: ForwardOutcome): void {
  if (outcome.status === 'applied') {
    writer.u8(appliedStatus).bytes(outcome.result);
    return;
  }
  const status = failureStatuses.get(outcome.outcome);
  if (status === undefined) {
    throw new RaftError('INVALID_MESSAGE', `unknown forward outcome '${String(outcome.outcome)}'`);
  }
  writer.u8(status).string(outcome.code).string(outcome.message);
  writeOptionalString(writer, outcome.reason);
}

function readOutcome(reader: BinaryReader, limits: MessageCodecLimits): ForwardOutcome {
  const status = reader.u8();
  if (status === appliedStatus) {
    return { status: 'applied', result: reader.bytes(limits.commandBytesMax) };
  }
  const outcome = failureOutcomes.get(status);
  if (outcome === undefined) {
    throw new RaftError('INVALID_MESSAGE', `unknown forward outcome ${status}`);
  }
  const code = reader.string(limits.errorMessageBytesMax);
  if (!isRaftErrorCode(code)) {
    throw new RaftError('INVALID_MESSAGE', `forward outcome has an unknown error code`, {
      details: { code: code.slice(0, 64) },
    });
  }
  const message = reader.string(limits.errorMessageBytesMax);
  const reason = readOptionalString(reader, limits.errorMessageBytesMax);
  // A state machine's rejection always names its reason and only a rejection has one, so a
  // forwarded COMMAND_REJECTED has the details its code promises.
  if ((code === 'COMMAND_REJECTED') !== (reason !== null)) {
    throw new RaftError(
      'INVALID_MESSAGE',
      `forward outcome ${code} has a reason only a rejection has`,
    );
  }
  return { status: 'failed', code, message, outcome, reason };
}

// Code 13 carried one error for the whole batch; that format is retired and its code never reused.
const forwardResult: MessageFormat<'forward-result'> = {
  code: 16,
  write: (writer, message) => {
    writer.u32(message.outcomes.length);
    for (const outcome of message.outcomes) writeOutcome(writer, outcome);
    writeOptionalString(writer, message.leaderId);
  },
  read: (reader, header, limits): ForwardResult => {
    const count = reader.count(limits.commandsPerMessageMax, outcomeBytesMin, 'outcomes');
    const outcomes: ForwardOutcome[] = [];
    for (let position = 0; position < count; position++) {
      outcomes.push(readOutcome(reader, limits));
    }
    return {
      type: 'forward-result',
      from: header.from,
      to: header.to,
      requestId: header.term,
      outcomes,
      leaderId: readOptionalString(reader, limits.nodeIdBytesMax),
    };
  },
};

// The join handshake, like forwarding, carries a request id in the header's term slot.
const joinRequest: MessageFormat<'join-request'> = {
  code: 14,
  write: () => undefined,
  read: (_reader, header): JoinRequest => ({
    type: 'join-request',
    from: header.from,
    to: header.to,
    requestId: header.term,
  }),
};

const joinResponse: MessageFormat<'join-response'> = {
  code: 15,
  write: (writer, message) => {
    writeOptionalString(writer, message.leaderId);
    writer.boolean(message.configuration !== null);
    if (message.configuration !== null) writeConfiguration(writer, message.configuration);
    writeOptionalString(writer, message.errorCode);
    writer.string(message.errorMessage);
  },
  read: (reader, header, limits): JoinResponse => ({
    type: 'join-response',
    from: header.from,
    to: header.to,
    requestId: header.term,
    leaderId: readOptionalString(reader, limits.nodeIdBytesMax),
    configuration: reader.boolean() ? readConfiguration(reader, limits) : null,
    errorCode: readOptionalString(reader, limits.errorMessageBytesMax),
    errorMessage: reader.string(limits.errorMessageBytesMax),
  }),
};

const formatsByType: { readonly [T in MessageType]: MessageFormat<T> } = {
  'request-vote': requestVote,
  'request-vote-response': requestVoteResponse,
  'append-entries': appendEntries,
  'append-entries-response': appendEntriesResponse,
  heartbeat,
  'heartbeat-response': heartbeatResponse,
  'timeout-now': timeoutNow,
  'install-snapshot': installSnapshot,
  'install-snapshot-response': installSnapshotResponse,
  'read-index': readIndex,
  'read-index-response': readIndexResponse,
  'forward-proposal': forwardProposal,
  'forward-result': forwardResult,
  'join-request': joinRequest,
  'join-response': joinResponse,
};

const formatsByCode = new Map<number, MessageFormat<MessageType>>(
  Object.values(formatsByType).map((format) => [format.code, format as MessageFormat<MessageType>]),
);

function formatOf(message: Message): MessageFormat<MessageType> {
  const format = (formatsByType as Record<string, MessageFormat<MessageType> | undefined>)[
    message.type
  ];
  if (format === undefined) {
    throw new RaftError('INVALID_MESSAGE', `unknown message type ${String(message.type)}`);
  }
  return format;
}

// A first guess at the encoded size, so large appends do not regrow the buffer several times.
function sizeHint(message: Message): number {
  let bytes = 64;
  if (message.type === 'append-entries') {
    for (const entry of message.entries) {
      bytes += entryBytesMin + 4 + (entryPayload(entry)?.length ?? 64);
    }
  } else if (message.type === 'install-snapshot') {
    bytes += 256 + message.data.length;
  } else if (message.type === 'forward-proposal') {
    for (const command of message.commands) bytes += 4 + command.length;
  } else if (message.type === 'forward-result') {
    for (const outcome of message.outcomes) {
      bytes += outcomeBytesMin + (outcome.status === 'applied' ? outcome.result.length : 64);
    }
  }
  return bytes;
}

/** Appends one message body: version, type code, header, then the type's fields. */
export function writeMessage(writer: BinaryWriter, message: Message): void {
  const format = formatOf(message);
  writer.u8(messageCodecVersion).u8(format.code);
  writer.u64(isRuntimeMessage(message) ? message.requestId : message.term);
  writer.string(message.from).string(message.to);
  format.write(writer, message);
}

/** Frames up to this size are encoded in a reused writer and packed into shared slabs. */
export const pooledFrameBytesMax = 4 * 1024;

/** Size of the shared slabs small frames are packed into. */
export const frameSlabBytes = 64 * 1024;

// One writer reused for every small frame, and the slab the frames are copied into: one
// allocation per 64 KiB of heartbeats instead of two or three per message.
const scratch = new BinaryWriter({
  initialBytes: pooledFrameBytesMax,
  bytesMax: pooledFrameBytesMax,
});
let slab = new Uint8Array(frameSlabBytes);
let slabOffset = 0;

function copyToSlab(frame: Uint8Array): Uint8Array {
  if (slabOffset + frame.length > slab.length) {
    slab = new Uint8Array(frameSlabBytes);
    slabOffset = 0;
  }
  const copy = slab.subarray(slabOffset, slabOffset + frame.length);
  copy.set(frame);
  slabOffset += frame.length;
  return copy;
}

// Null when the message does not fit the scratch writer (long ids, say) or fails to encode: the
// general path then encodes it again under the real limits and reports any error.
function encodeSmallFrame(message: Message, limits: MessageCodecLimits): Uint8Array | null {
  try {
    scratch.reset().u32(0);
    writeMessage(scratch, message);
  } catch {
    return null;
  }
  const bodyBytes = scratch.length - frameHeaderBytes;
  if (bodyBytes > limits.messageBytesMax) return null;
  scratch.u32At(0, bodyBytes);
  return copyToSlab(scratch.finish());
}

/**
 * Encodes a message as a frame: a u32 body length, then the body. Throws RaftError
 * `INVALID_MESSAGE` when a field is out of range or the body would exceed `messageBytesMax`.
 * A small frame may be a view into a buffer shared with other frames: read it, do not transfer
 * or modify its `buffer`.
 */
export function encodeFrame(
  message: Message,
  limits: MessageCodecLimits = messageCodecDefaults,
): Uint8Array {
  const hint = frameHeaderBytes + sizeHint(message);
  if (hint <= pooledFrameBytesMax) {
    const frame = encodeSmallFrame(message, limits);
    if (frame !== null) return frame;
  }
  const writer = new BinaryWriter({
    initialBytes: Math.min(hint, frameHeaderBytes + limits.messageBytesMax),
    bytesMax: frameHeaderBytes + limits.messageBytesMax,
  });
  writer.u32(0);
  writeMessage(writer, message);
  writer.u32At(0, writer.length - frameHeaderBytes);
  return writer.finish();
}

/** Encodes a message body without the frame's length prefix (for channels that frame by themselves). */
export function encodeMessage(
  message: Message,
  limits: MessageCodecLimits = messageCodecDefaults,
): Uint8Array {
  return encodeFrame(message, limits).subarray(frameHeaderBytes);
}

/**
 * Decodes one message body. The input must hold exactly one message: trailing bytes, an unknown
 * version or type, an out-of-range field or a limit exceeded throw RaftError `INVALID_MESSAGE`, and
 * nothing is returned half-decoded. Byte fields (command data, snapshot chunks, forwarded commands)
 * are views into `body`, not copies: keep `body` unmodified while the message is in use.
 */
export function decodeMessage(
  body: Uint8Array,
  limits: MessageCodecLimits = messageCodecDefaults,
): Message {
  if (body.length > limits.messageBytesMax) {
    throw new RaftError('INVALID_MESSAGE', `message of ${body.length} bytes is over the limit`);
  }
  const reader = new BinaryReader(body);
  const version = reader.u8();
  if (version !== messageCodecVersion) {
    throw new RaftError('INVALID_MESSAGE', `unsupported message codec version ${version}`, {
      details: { version },
    });
  }
  const code = reader.u8();
  const format = formatsByCode.get(code);
  if (format === undefined) {
    throw new RaftError('INVALID_MESSAGE', `unknown message type code ${code}`);
  }
  const header: Header = {
    term: reader.u64(),
    from: reader.string(limits.nodeIdBytesMax),
    to: reader.string(limits.nodeIdBytesMax),
  };
  const message = format.read(reader, header, limits);
  reader.end();
  return message;
}

/** The minimum body: version, type code, term or request id, and two empty ids. */
export const messageBytesMin = 1 + 1 + 8 + 2 * stringBytesMin;
