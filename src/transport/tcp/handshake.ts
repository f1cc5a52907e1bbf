import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BinaryReader, BinaryWriter } from '../../codec/binary.js';
import { frameHeaderBytes } from '../../codec/message-codec.js';
import { RaftError } from '../../core/index.js';
import type { NodeId } from '../../core/index.js';

/** Identifies a raftkit connection, so a stray client of another protocol is refused at once. */
export const handshakeMagic = 'raftkit';

/** The handshake version this transport speaks. */
export const handshakeVersion = 1;

/** Largest handshake frame; until a peer is authenticated nothing bigger is buffered. */
export const handshakeBytesMax = 4096;

/** Random bytes each side contributes, so every handshake's proofs are new. */
export const nonceBytes = 32;

/** Length of an HMAC-SHA256 proof. */
export const proofBytes = 32;

const idBytesMax = 256;

/** The dialer introduces itself and names whom it means to reach. */
export interface Hello {
  readonly kind: 'hello';
  readonly clusterId: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly nonce: Uint8Array;
}

/** The listener answers with its id and its own nonce. */
export interface Challenge {
  readonly kind: 'challenge';
  readonly serverId: NodeId;
  readonly nonce: Uint8Array;
}

/** The dialer's proof (empty without a shared secret). */
export interface Proof {
  readonly kind: 'proof';
  readonly proof: Uint8Array;
}

/**
 * The listener accepts and, with a shared secret, proves itself in turn: messages may flow once the
 * dialer has checked that proof.
 */
export interface Accept {
  readonly kind: 'accept';
  readonly proof: Uint8Array;
}

/** The listener refuses, with a code the dialer counts (never a secret or a detail). */
export interface Reject {
  readonly kind: 'reject';
  readonly code: 'UNAUTHENTICATED' | 'UNKNOWN_PEER' | 'INVALID_MESSAGE';
}

/** Every frame of the handshake. */
export type HandshakeFrame = Hello | Challenge | Proof | Accept | Reject;

const kindCodes = { hello: 1, challenge: 2, proof: 3, accept: 4, reject: 5 } as const;
const rejectCodes = ['UNAUTHENTICATED', 'UNKNOWN_PEER', 'INVALID_MESSAGE'] as const;

/** Encodes a handshake frame body (the caller adds the length prefix). */
export function encodeHandshake(frame: HandshakeFrame): Uint8Array {
  const writer = new BinaryWriter({ bytesMax: handshakeBytesMax });
  writer.u8(kindCodes[frame.kind]);
  switch (frame.kind) {
    case 'hello':
      writer.string(handshakeMagic).u8(handshakeVersion).string(frame.clusterId);
      writer.string(frame.from).string(frame.to).bytes(frame.nonce);
      break;
    case 'challenge':
      writer.string(frame.serverId).bytes(frame.nonce);
      break;
    case 'proof':
    case 'accept':
      writer.bytes(frame.proof);
      break;
    case 'reject':
      writer.u8(rejectCodes.indexOf(frame.code));
      break;
  }
  return writer.finish();
}

/** Decodes a handshake frame body; anything malformed throws RaftError `INVALID_MESSAGE`. */
export function decodeHandshake(body: Uint8Array): HandshakeFrame {
  const reader = new BinaryReader(body);
  const kind = reader.u8();
  let frame: HandshakeFrame;
  switch (kind) {
    case kindCodes.hello: {
      if (reader.string(16) !== handshakeMagic) throw invalid('not a raftkit handshake');
      const version = reader.u8();
      if (version !== handshakeVersion) throw invalid(`handshake version ${version}`);
      const clusterId = reader.string(idBytesMax);
      const from = reader.string(idBytesMax);
      const to = reader.string(idBytesMax);
      const nonce = reader.bytes(nonceBytes);
      if (nonce.length !== nonceBytes) throw invalid('short nonce');
      frame = { kind: 'hello', clusterId, from, to, nonce };
      break;
    }
    case kindCodes.challenge: {
      const serverId = reader.string(idBytesMax);
      const nonce = reader.bytes(nonceBytes);
      if (nonce.length !== nonceBytes) throw invalid('short nonce');
      frame = { kind: 'challenge', serverId, nonce };
      break;
    }
    case kindCodes.proof:
      frame = { kind: 'proof', proof: reader.bytes(proofBytes) };
      break;
    case kindCodes.accept:
      frame = { kind: 'accept', proof: reader.bytes(proofBytes) };
      break;
    case kindCodes.reject: {
      const code = rejectCodes[reader.u8()];
      if (code === undefined) throw invalid('unknown reject code');
      frame = { kind: 'reject', code };
      break;
    }
    default:
      throw invalid(`unknown handshake frame ${kind}`);
  }
  reader.end();
  return frame;
}

/** A handshake frame as it goes on the wire: the u32 length prefix, then the body. */
export function handshakeFrame(frame: HandshakeFrame): Uint8Array {
  const body = encodeHandshake(frame);
  // A length-prefixed byte field is exactly a frame.
  return new BinaryWriter({ initialBytes: frameHeaderBytes + body.length }).bytes(body).finish();
}

function invalid(message: string): RaftError {
  return new RaftError('INVALID_MESSAGE', message);
}

/** Fresh random bytes for one side of a handshake. */
export function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(nonceBytes));
}

/** Everything a proof binds: who proves to whom, in which cluster, for which pair of nonces. */
export interface ProofContext {
  readonly clusterId: string;
  readonly clientId: NodeId;
  readonly serverId: NodeId;
  readonly clientNonce: Uint8Array;
  readonly serverNonce: Uint8Array;
}

/**
 * HMAC-SHA256 over the role and the whole context. Both nonces are bound, so a recorded handshake
 * fails against a fresh nonce; the role is bound, so a proof cannot be reflected back to its
 * sender. The dialer proves first, so a listener only ever proves itself to a member.
 */
export function computeProof(
  secret: Uint8Array,
  role: 'client' | 'server',
  context: ProofContext,
): Uint8Array {
  const writer = new BinaryWriter();
  writer.string('raftkit-handshake-v1').string(role).string(context.clusterId);
  writer.string(context.clientId).string(context.serverId);
  writer.bytes(context.clientNonce).bytes(context.serverNonce);
  return new Uint8Array(createHmac('sha256', secret).update(writer.finish()).digest());
}

/** Compares a received proof with the expected one in constant time. */
export function proofMatches(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}
