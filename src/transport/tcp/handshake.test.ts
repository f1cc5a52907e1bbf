import { describe, expect, it } from 'vitest';
import { RaftError } from '../../core/index.js';
import {
  computeProof,
  decodeHandshake,
  encodeHandshake,
  newNonce,
  proofMatches,
  type HandshakeFrame,
} from './handshake.js';

const context = {
  clusterId: 'c1',
  clientId: 'a',
  serverId: 'b',
  clientNonce: new Uint8Array(32).fill(1),
  serverNonce: new Uint8Array(32).fill(2),
};
const secret = new TextEncoder().encode('secret');

describe('handshake frames', () => {
  it('round-trip every kind', () => {
    const frames: HandshakeFrame[] = [
      { kind: 'hello', clusterId: 'c1', from: 'a', to: 'b', nonce: newNonce() },
      { kind: 'challenge', serverId: 'b', nonce: newNonce() },
      { kind: 'proof', proof: computeProof(secret, 'client', context) },
      { kind: 'accept', proof: new Uint8Array(0) },
      { kind: 'reject', code: 'UNKNOWN_PEER' },
    ];
    for (const frame of frames) expect(decodeHandshake(encodeHandshake(frame))).toEqual(frame);
  });

  it('rejects another protocol, a short nonce, trailing bytes and unknown kinds', () => {
    const hello = encodeHandshake({
      kind: 'hello',
      clusterId: 'c',
      from: 'a',
      to: 'b',
      nonce: newNonce(),
    });
    const wrongMagic = hello.slice();
    wrongMagic[5] = 'X'.charCodeAt(0);
    const shortNonce = encodeHandshake({
      kind: 'challenge',
      serverId: 'b',
      nonce: new Uint8Array(8),
    });
    const trailing = new Uint8Array([
      ...encodeHandshake({ kind: 'accept', proof: new Uint8Array(0) }),
      0,
    ]);
    for (const body of [wrongMagic, shortNonce, trailing, new Uint8Array([9]), new Uint8Array(0)]) {
      expect(() => decodeHandshake(body)).toThrow(RaftError);
    }
  });
});

describe('handshake proofs', () => {
  it('differ by role, secret, cluster and either nonce', () => {
    const client = computeProof(secret, 'client', context);
    expect(proofMatches(client, computeProof(secret, 'client', context))).toBe(true);
    const variants = [
      computeProof(secret, 'server', context),
      computeProof(new TextEncoder().encode('other'), 'client', context),
      computeProof(secret, 'client', { ...context, clusterId: 'c2' }),
      computeProof(secret, 'client', { ...context, serverNonce: new Uint8Array(32) }),
      computeProof(secret, 'client', { ...context, clientNonce: new Uint8Array(32) }),
      computeProof(secret, 'client', { ...context, clientId: 'b', serverId: 'a' }),
    ];
    for (const variant of variants) expect(proofMatches(client, variant)).toBe(false);
    expect(proofMatches(client, client.subarray(0, 16))).toBe(false);
  });

  it('draws a fresh nonce each time', () => {
    expect(newNonce()).not.toEqual(newNonce());
    expect(newNonce()).toHaveLength(32);
  });
});
