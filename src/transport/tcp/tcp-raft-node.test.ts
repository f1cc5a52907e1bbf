import { afterEach, describe, expect, it } from 'vitest';
import { StaticDiscovery } from '../../discovery/static-discovery.js';
import { RaftNode } from '../../node/index.js';
import { MemoryStorage } from '../../storage/memory/index.js';
import { TcpTransport } from './tcp-transport.js';
import { waitFor } from './tcp-test-cluster.test-helpers.js';

const nodes: RaftNode<number>[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.stop()));
});

/** Adds each command's first byte to a running total and returns the total. */
function counter() {
  let total = 0;
  return { apply: (command: Uint8Array) => (total += command[0] ?? 0) };
}

describe('RaftNode over TcpTransport', () => {
  it('elects a leader and commits proposals forwarded from a follower', async () => {
    const ids = ['a', 'b', 'c'];
    const discovery = new StaticDiscovery();
    const transports = ids.map(
      () =>
        new TcpTransport({
          clusterId: 'integration',
          listen: '127.0.0.1:0',
          discovery,
          secret: 'integration secret',
          reconnectDelayMsMin: 10,
          reconnectDelayMsMax: 100,
        }),
    );
    for (const [position, id] of ids.entries()) {
      const node = new RaftNode({
        id,
        storage: new MemoryStorage(),
        transport: transports[position]!,
        stateMachine: counter(),
        initialConfiguration: ids,
        forwardProposals: true,
        tickMs: 20,
      });
      nodes.push(node);
      await node.start();
      discovery.set(id, transports[position]!.address()!);
    }
    await waitFor(
      () => nodes.every((node) => node.leaderId !== null && node.leaderId === nodes[0]!.leaderId),
      'a leader known to all',
    );
    const follower = nodes.find((node) => node.leaderId !== null && node.leaderId !== node.id)!;
    const results = await Promise.all(
      [1, 2, 3].map((value) => follower.propose(new Uint8Array([value]), { timeoutMs: 10_000 })),
    );
    expect([...results].sort()).toEqual([1, 3, 6]);
    expect(transports.every((transport) => transport.stats().rejected.unauthenticated === 0)).toBe(
      true,
    );
  });
});
