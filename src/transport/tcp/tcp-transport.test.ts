import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../codec/frame-decoder.js';
import { encodeFrame } from '../../codec/message-codec.js';
import type { Heartbeat } from '../../core/index.js';
import { clusterSettingsDefaults, emptyConfiguration } from '../../core/index.js';
import { StaticDiscovery } from '../../discovery/static-discovery.js';
import type { PeerAddress } from '../../discovery/discovery.js';
import {
  computeProof,
  decodeHandshake,
  handshakeFrame,
  newNonce,
  type HandshakeFrame,
} from './handshake.js';
import {
  heartbeat,
  sleep,
  startCluster,
  startNode,
  stopAll,
  tlsFor,
  waitFor,
  type TestNode,
} from './tcp-test-cluster.test-helpers.js';
import { TcpTransport } from './tcp-transport.js';
import { realClock, type Clock } from '../../platform/clock.js';

const running: TestNode[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await stopAll(running.splice(0));
});

async function cluster(...args: Parameters<typeof startCluster>) {
  const started = await startCluster(...args);
  running.push(...started.nodes.values());
  return started;
}

function commits(node: TestNode): number[] {
  return node.inbox.map((message) => (message as Heartbeat).commit);
}

/** A hand-driven client, for handshakes the transport itself would never perform. */
async function rawClient(address: PeerAddress) {
  const socket = connect({ host: address.host, port: address.port });
  sockets.push(socket);
  socket.on('error', () => undefined);
  const frames: HandshakeFrame[] = [];
  let closed = false;
  const decoder = new FrameDecoder({ frameBytesMax: 4096 });
  socket.on('data', (chunk: Buffer) => {
    for (const body of decoder.push(chunk)) frames.push(decodeHandshake(body));
  });
  socket.on('close', () => (closed = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  return {
    socket,
    frames,
    isClosed: () => closed,
    send: (frame: HandshakeFrame) => socket.write(handshakeFrame(frame)),
  };
}

describe('TcpTransport', () => {
  it('exchanges messages between two transports, in order', async () => {
    const { nodes } = await cluster(['a', 'b']);
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    for (let commit = 0; commit < 100; commit++) a.transport.send(heartbeat('a', 'b', commit));
    b.transport.send(heartbeat('b', 'a', 7));
    await waitFor(() => b.inbox.length === 100 && a.inbox.length === 1, 'delivery');
    expect(commits(b)).toEqual([...Array(100).keys()]);
    expect(a.inbox).toEqual([heartbeat('b', 'a', 7)]);
    expect(a.transport.stats()).toMatchObject({ sent: 100, written: 100, received: 1 });
    expect(a.transport.isConnected('b')).toBe(true);
  });

  it('writes what one turn sends to a peer together, across the microtasks of that turn', async () => {
    const { nodes } = await cluster(['a', 'b']);
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    a.transport.send(heartbeat('a', 'b', 0));
    await waitFor(() => b.inbox.length === 1, 'the connection');
    const before = a.transport.stats().flushes;
    // Each I/O callback of a turn ends with its own microtask checkpoint: a leader hears from many
    // clients in one turn, and each of their writes reaches the transport after such a checkpoint.
    for (let commit = 1; commit <= 5; commit++) {
      a.transport.send(heartbeat('a', 'b', commit));
      await Promise.resolve();
      await Promise.resolve();
    }
    await waitFor(() => b.inbox.length === 6, 'delivery');
    expect(commits(b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.transport.stats().flushes - before).toBe(1);
  });

  it('connects three transports sharing a secret, each to each', async () => {
    const { nodes } = await cluster(['a', 'b', 'c'], () => ({ secret: 'correct horse' }));
    for (const from of nodes.values()) {
      for (const to of nodes.keys()) {
        if (to !== from.id) from.transport.send(heartbeat(from.id, to, 1));
      }
    }
    await waitFor(() => [...nodes.values()].every((node) => node.inbox.length === 2), 'delivery');
    for (const node of nodes.values()) {
      expect(node.inbox.map((message) => message.from).sort()).toEqual(
        ['a', 'b', 'c'].filter((id) => id !== node.id),
      );
      expect(node.transport.stats().connections.accepted).toBe(2);
    }
  });

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

  it('reconnects to a peer that goes away and comes back elsewhere', async () => {
    const { nodes, discovery } = await cluster(['a', 'b']);
    const a = nodes.get('a')!;
    a.transport.send(heartbeat('a', 'b', 1));
    await waitFor(() => nodes.get('b')!.inbox.length === 1, 'first delivery');
    await nodes.get('b')!.transport.stop();
    await waitFor(() => !a.transport.isConnected('b'), 'disconnect');
    a.transport.send(heartbeat('a', 'b', 2));
    await sleep(100);
    const revived = await startNode('b', discovery);
    running.push(revived);
    a.transport.send(heartbeat('a', 'b', 3));
    await waitFor(() => revived.inbox.length === 2, 'delivery after reconnect');
    expect(commits(revived)).toEqual([2, 3]);
    expect(a.transport.stats().connections.failed).toBeGreaterThanOrEqual(1);
    expect(a.transport.stats().connections.opened).toBe(2);
  });

  it('drops the oldest messages when a peer stays unreachable', async () => {
    const discovery = new StaticDiscovery({ gone: '127.0.0.1:1' });
    const { nodes } = await cluster(['a'], () => ({ queueMessagesMax: 10 }), discovery);
    const a = nodes.get('a')!;
    for (let commit = 0; commit < 25; commit++) a.transport.send(heartbeat('a', 'gone', commit));
    expect(a.transport.stats().dropped.queueOverflow).toBe(15);
    expect(a.transport.queuedMessages().get('gone')).toBe(10);
    a.transport.send(heartbeat('a', 'nobody'));
    await waitFor(() => a.transport.stats().dropped.noAddress === 1, 'unknown peer drop');
  });

  it('never throws from send and drops what it cannot send', async () => {
    const transport = new TcpTransport({
      clusterId: 'c',
      listen: '127.0.0.1:0',
      discovery: new StaticDiscovery(),
    });
    expect(() => transport.send(heartbeat('a', 'b'))).not.toThrow();
    const { nodes } = await cluster(['a']);
    const a = nodes.get('a')!;
    a.transport.send(heartbeat('b', 'c'));
    a.transport.send(heartbeat('a', 'a'));
    a.transport.send({ ...heartbeat('a', 'b'), term: -1 });
    expect(a.transport.stats().dropped).toMatchObject({ notSendable: 2, unencodable: 1 });
    expect(transport.stats().dropped.notSendable).toBe(1);
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
    // The intruder holds a certificate for "a", signed by an authority nobody trusts.
    const intruder = await startNode(
      'a',
      new StaticDiscovery(Object.fromEntries(discovery.peers())),
      {
        tls: tlsFor('intruder'),
      },
    );
    running.push(intruder);
    intruder.transport.send(heartbeat('a', 'b', 66));
    await waitFor(() => b.transport.stats().rejected.unauthenticated >= 1, 'TLS rejection');
    // Mallory's certificate is genuine, but names mallory, not the "c" it claims to be.
    discovery.set('c', '127.0.0.1:1');
    const mallory = await startNode(
      'c',
      new StaticDiscovery(Object.fromEntries(discovery.peers())),
      {
        tls: tlsFor('mallory'),
      },
    );
    running.push(mallory);
    mallory.transport.send(heartbeat('c', 'b', 67));
    await waitFor(() => b.transport.stats().rejected.unauthenticated >= 2, 'identity rejection');
    expect(b.inbox).toEqual([]);
  });

  it('redials a peer that stops reading, instead of waiting on a full socket', async () => {
    // A listener that completes the handshake, then never reads again.
    const server = createServer((socket) => {
      const decoder = new FrameDecoder({ frameBytesMax: 4096 });
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        for (const body of decoder.push(chunk)) {
          const frame = decodeHandshake(body);
          if (frame.kind === 'hello') {
            socket.write(
              handshakeFrame({ kind: 'challenge', serverId: 'sink', nonce: newNonce() }),
            );
          } else if (frame.kind === 'proof') {
            socket.write(handshakeFrame({ kind: 'accept', proof: new Uint8Array(0) }));
            socket.pause();
          }
        }
      });
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const discovery = new StaticDiscovery({ sink: `127.0.0.1:${port}` });
    const node = await startNode('a', discovery, {
      writeStallTimeoutMs: 300,
      socketBufferBytesMax: 1024 * 1024,
    });
    running.push(node);
    const chunk = {
      type: 'install-snapshot' as const,
      term: 1,
      from: 'a',
      to: 'sink',
      snapshot: {
        index: 1,
        term: 1,
        configuration: emptyConfiguration,
        settings: clusterSettingsDefaults,
      },
      offset: 0,
      data: new Uint8Array(1024 * 1024),
      totalBytes: 64 * 1024 * 1024,
      checksum: 0,
      done: false,
    };
    await waitFor(() => {
      // Keep the socket full until the stall is noticed: loopback buffers hold several megabytes.
      if ((node.transport.queuedMessages().get('sink') ?? 0) < 4) node.transport.send(chunk);
      const { stalled, failed } = node.transport.stats().connections;
      // The close that follows the stall is reported by the socket a moment later.
      return stalled >= 1 && failed >= 1;
    }, 'stall detection and the close that follows');
    server.close();
    expect(node.transport.stats().connections.stalled).toBeGreaterThanOrEqual(1);
  });

  it('stop closes every socket and timer, and is idempotent', async () => {
    const types = (): string[] =>
      process
        .getActiveResourcesInfo()
        .filter((type) => /TCP|Timeout|TLS|Immediate/.test(type))
        .sort();
    const before = types();
    // Real timers are unreferenced, so the resource list misses them: count them at the clock.
    let timersPending = 0;
    const clock: Clock = {
      now: () => realClock.now(),
      schedule(delayMs, callback) {
        timersPending++;
        let settled = false;
        const settle = () => {
          if (!settled) timersPending--;
          settled = true;
        };
        const handle = realClock.schedule(delayMs, () => {
          settle();
          callback();
        });
        return {
          cancel: () => {
            settle();
            handle.cancel();
          },
        };
      },
    };
    const { nodes } = await startCluster(['a', 'b', 'c'], () => ({ secret: 'x', clock }));
    const discovery = new StaticDiscovery({ gone: '127.0.0.1:1' });
    const lonely = await startNode('d', discovery, { clock });
    for (const node of nodes.values()) {
      for (const to of ['a', 'b', 'c']) {
        if (to !== node.id) node.transport.send(heartbeat(node.id, to));
      }
    }
    lonely.transport.send(heartbeat('d', 'gone'));
    await waitFor(() => [...nodes.values()].every((node) => node.inbox.length === 2), 'traffic');
    await waitFor(() => lonely.transport.stats().connections.failed > 0, 'a reconnect timer');
    expect(types().length).toBeGreaterThan(before.length);
    expect(timersPending).toBeGreaterThan(0);
    await stopAll([...nodes.values(), lonely]);
    await stopAll([...nodes.values(), lonely]);
    // Earlier tests' sockets may still be closing, so fewer resources than before is fine too.
    await waitFor(() => types().length <= before.length, 'resources released', 2000);
    expect(types().length).toBeLessThanOrEqual(before.length);
    expect(timersPending).toBe(0);
    nodes.get('a')!.transport.send(heartbeat('a', 'b'));
    expect(nodes.get('a')!.transport.stats().dropped.notSendable).toBe(1);
  });
});
