import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../codec/frame-decoder.js';
import { clusterSettingsDefaults, emptyConfiguration } from '../../core/index.js';
import { StaticDiscovery } from '../../discovery/static-discovery.js';
import { decodeHandshake, handshakeFrame, newNonce } from './handshake.js';
import {
  heartbeat,
  sleep,
  startCluster,
  startNode,
  stopAll,
  commits,
  trackedResources,
  waitFor,
} from './tcp-test-cluster.test-helpers.js';
import { TcpTransport } from './tcp-transport.js';
import { realClock, type Clock } from '../../platform/clock.js';

const { running, sockets, cluster } = trackedResources();

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
