import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../codec/message-codec.js';
import { StaticDiscovery } from '../../discovery/static-discovery.js';
import { computeProof, newNonce } from './handshake.js';
import {
  commits,
  heartbeat,
  startNode,
  tlsFor,
  trackedResources,
  waitFor,
} from './tcp-test-cluster.test-helpers.js';

const { running, cluster, rawClient } = trackedResources();

// Who may talk to whom: shared secrets, handshakes, cluster ids, certificates.
describe('TcpTransport peer authentication', () => {
  it('refuses a dialer with the wrong secret and counts it', async () => {
    const { nodes, discovery } = await cluster(['a'], () => ({ secret: 'right' }));
    const intruder = await startNode('b', discovery, { secret: 'wrong' });
    running.push(intruder);
    intruder.transport.send(heartbeat('b', 'a'));
    const a = nodes.get('a')!;
    await waitFor(() => a.transport.stats().rejected.unauthenticated >= 1, 'rejection');
    await waitFor(() => intruder.transport.stats().connections.refusedByPeer >= 1, 'refusal');
    expect(a.inbox).toEqual([]);
    expect(a.transport.stats().connections.accepted).toBe(0);
  });

  it('refuses to talk to a listener that cannot prove the secret', async () => {
    const { nodes, discovery } = await cluster(['a']);
    const dialer = await startNode('b', discovery, { secret: 'only-b-knows' });
    running.push(dialer);
    dialer.transport.send(heartbeat('b', 'a'));
    // The listener has no secret, so it refuses the non-empty proof; either way nothing flows.
    await waitFor(() => dialer.transport.stats().connections.refusedByPeer >= 1, 'refusal');
    expect(nodes.get('a')!.inbox).toEqual([]);
  });

  it('refuses a replayed handshake', async () => {
    const secret = new TextEncoder().encode('s3cret');
    const { nodes } = await cluster(['a', 'b'], () => ({ secret }));
    const a = nodes.get('a')!;
    const address = a.transport.address()!;
    const hello = {
      kind: 'hello' as const,
      clusterId: 'test-cluster',
      from: 'b',
      to: 'a',
      nonce: newNonce(),
    };
    // A genuine handshake, recorded.
    const first = await rawClient(address);
    first.send(hello);
    await waitFor(() => first.frames.length === 1, 'challenge');
    const challenge = first.frames[0]!;
    if (challenge.kind !== 'challenge') throw new Error('expected a challenge');
    const proof = computeProof(secret, 'client', {
      clusterId: 'test-cluster',
      clientId: 'b',
      serverId: 'a',
      clientNonce: hello.nonce,
      serverNonce: challenge.nonce,
    });
    first.send({ kind: 'proof', proof });
    await waitFor(() => first.frames.length === 2, 'accept');
    expect(first.frames[1]!.kind).toBe('accept');
    // The same bytes again: the listener's fresh nonce makes the old proof worthless.
    const replay = await rawClient(address);
    replay.send(hello);
    await waitFor(() => replay.frames.length === 1, 'second challenge');
    replay.send({ kind: 'proof', proof });
    await waitFor(() => replay.isClosed(), 'hang-up');
    expect(replay.frames[1]).toEqual({ kind: 'reject', code: 'UNAUTHENTICATED' });
    expect(a.transport.stats().rejected.unauthenticated).toBe(1);
  });

  it('refuses a wrong cluster id and a dialer unknown to discovery', async () => {
    const { nodes } = await cluster(['a']);
    const address = nodes.get('a')!.transport.address()!;
    const wrongCluster = await rawClient(address);
    wrongCluster.send({ kind: 'hello', clusterId: 'other', from: 'b', to: 'a', nonce: newNonce() });
    const stranger = await rawClient(address);
    stranger.send({
      kind: 'hello',
      clusterId: 'test-cluster',
      from: 'z',
      to: 'a',
      nonce: newNonce(),
    });
    await waitFor(() => wrongCluster.isClosed() && stranger.isClosed(), 'hang-ups');
    expect(nodes.get('a')!.transport.stats().rejected).toMatchObject({
      unauthenticated: 1,
      unknownPeer: 1,
    });
  });

  it('drops garbage and silent connections, counting them', async () => {
    const { nodes } = await cluster(['a'], () => ({ handshakeTimeoutMs: 200 }));
    const address = nodes.get('a')!.transport.address()!;
    const garbage = await rawClient(address);
    garbage.socket.write('GET / HTTP/1.1\r\nHost: example\r\n\r\n');
    const silent = await rawClient(address);
    await waitFor(() => garbage.isClosed() && silent.isClosed(), 'hang-ups');
    expect(nodes.get('a')!.transport.stats().rejected.invalidHandshake).toBe(2);
  });

  it('refuses inbound connections over the limit', async () => {
    const { nodes } = await cluster(['a'], () => ({ inboundConnectionsMax: 1 }));
    const address = nodes.get('a')!.transport.address()!;
    await rawClient(address);
    const second = await rawClient(address);
    await waitFor(() => second.isClosed(), 'refusal');
    expect(nodes.get('a')!.transport.stats().rejected.tooManyConnections).toBe(1);
  });

  it('rejects a misaddressed message from an authenticated peer', async () => {
    const { nodes } = await cluster(['a', 'b']);
    const b = nodes.get('b')!;
    // Handshake as a genuine member would, then lie about the sender.
    const client = await rawClient(b.transport.address()!);
    client.send({
      kind: 'hello',
      clusterId: 'test-cluster',
      from: 'a',
      to: 'b',
      nonce: newNonce(),
    });
    await waitFor(() => client.frames.length === 1, 'challenge');
    client.send({ kind: 'proof', proof: new Uint8Array(0) });
    await waitFor(() => client.frames.length === 2, 'accept');
    client.socket.write(encodeFrame(heartbeat('c', 'b', 1)));
    client.socket.write(encodeFrame(heartbeat('a', 'b', 2)));
    await waitFor(() => b.inbox.length === 1, 'delivery');
    expect(commits(b)).toEqual([2]);
    expect(b.transport.stats().rejected.invalidMessage).toBe(1);
  });

  it('authenticates peers by certificate over mutual TLS', async () => {
    const { nodes } = await cluster(['a', 'b', 'c'], (id) => ({ tls: tlsFor(id) }));
    nodes.get('a')!.transport.send(heartbeat('a', 'b', 1));
    nodes.get('c')!.transport.send(heartbeat('c', 'a', 2));
    await waitFor(
      () => nodes.get('b')!.inbox.length === 1 && nodes.get('a')!.inbox.length === 1,
      'delivery over TLS',
    );
    expect(nodes.get('b')!.inbox).toEqual([heartbeat('a', 'b', 1)]);
  });

  it('refuses a certificate from another authority or naming another node', async () => {
    const { nodes, discovery } = await cluster(['a', 'b'], (id) => ({ tls: tlsFor(id) }));
    const b = nodes.get('b')!;
    /** A node started as `id` on a copy of the cluster's discovery, holding `certificate`. */
    const impostor = async (id: string, certificate: string) => {
      const node = await startNode(id, new StaticDiscovery(Object.fromEntries(discovery.peers())), {
        tls: tlsFor(certificate),
      });
      running.push(node);
      return node;
    };
    // The intruder holds a certificate for "a", signed by an authority nobody trusts.
    const intruder = await impostor('a', 'intruder');
    intruder.transport.send(heartbeat('a', 'b', 66));
    await waitFor(() => b.transport.stats().rejected.unauthenticated >= 1, 'TLS rejection');
    // Mallory's certificate is genuine, but names mallory, not the "c" it claims to be.
    discovery.set('c', '127.0.0.1:1');
    const mallory = await impostor('c', 'mallory');
    mallory.transport.send(heartbeat('c', 'b', 67));
    await waitFor(() => b.transport.stats().rejected.unauthenticated >= 2, 'identity rejection');
    expect(b.inbox).toEqual([]);
  });
});
