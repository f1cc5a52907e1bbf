import { afterEach, describe, expect, it } from 'vitest';
import { RaftError } from '../core/index.js';
import type { NodeId } from '../core/index.js';
import { SimulatedClock } from '../node/simulated-clock.js';
import type { PeerAddress } from './discovery.js';
import { DnsDiscovery, type DnsDiscoveryOptions } from './dns-discovery.js';
import { DnsTestServer } from './dns-test-server.test-helpers.js';
import { TcpTransport } from '../transport/tcp/tcp-transport.js';
import type { Message } from '../transport/transport.js';

const service = '_raft._tcp.test.internal';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<DnsDiscoveryOptions> = {}) {
  const server = new DnsTestServer();
  const address = await server.start();
  cleanups.push(() => server.stop());
  const clock = new SimulatedClock();
  const discovery = new DnsDiscovery({
    service,
    servers: [address],
    port: 7000,
    queryTimeoutMs: 500,
    queryTries: 2,
    clock,
    ...options,
  });
  cleanups.push(() => discovery.stop());
  return { server, discovery, clock };
}

function listed(peers: ReadonlyMap<NodeId, PeerAddress>): Record<string, string> {
  return Object.fromEntries(
    [...peers].map(([id, address]) => [id, `${address.host}:${address.port}`]),
  );
}

describe('DnsDiscovery', () => {
  it('lists members from SRV records and their A or AAAA addresses', async () => {
    const { server, discovery } = await setup();
    server.zone.srv.set(service, [
      { priority: 0, weight: 0, port: 7001, target: 'a.test.internal' },
      { priority: 0, weight: 0, port: 7002, target: 'b.test.internal' },
      { priority: 0, weight: 0, port: 7003, target: 'gone.test.internal' },
    ]);
    server.zone.a.set('a.test.internal', ['10.0.0.1']);
    server.zone.aaaa.set('b.test.internal', ['fd00::2']);
    await discovery.start();
    expect(listed(discovery.peers())).toEqual({ a: '10.0.0.1:7001', b: 'fd00::2:7002' });
    expect(await discovery.resolve('a')).toEqual({ host: '10.0.0.1', port: 7001 });
  });

  it('falls back to A records under the service domain for ids SRV does not list', async () => {
    const { server, discovery } = await setup();
    server.zone.a.set('c.test.internal', ['10.0.0.3']);
    await discovery.start();
    expect(discovery.peers().size).toBe(0);
    expect(await discovery.resolve('c')).toEqual({ host: '10.0.0.3', port: 7000 });
    expect(await discovery.resolve('nobody')).toBeNull();
    expect(server.queries).toContain('1:c.test.internal');
  });

  it('refreshes on its interval and tells subscribers about changes only', async () => {
    const { server, discovery, clock } = await setup({ refreshIntervalMs: 1000 });
    server.zone.srv.set(service, [
      { priority: 0, weight: 0, port: 7001, target: 'a.test.internal' },
    ]);
    server.zone.a.set('a.test.internal', ['10.0.0.1']);
    const seen: Record<string, string>[] = [];
    discovery.subscribe((peers) => seen.push(listed(peers)));
    await discovery.start();
    server.zone.a.set('a.test.internal', ['10.0.0.9']);
    expect(clock.pendingCount).toBe(1);
    clock.advance(1000);
    await waitUntil(() => seen.length === 2);
    clock.advance(1000);
    await waitUntil(() => clock.pendingCount === 1 && server.queries.length >= 6);
    expect(seen).toEqual([{ a: '10.0.0.1:7001' }, { a: '10.0.0.9:7001' }]);
    await discovery.stop();
    expect(clock.pendingCount).toBe(0);
  });

  it('keeps the last good list while the DNS server is unreachable', async () => {
    const { server, discovery } = await setup({ queryTimeoutMs: 100, queryTries: 1 });
    server.zone.srv.set(service, [{ priority: 0, weight: 0, port: 7001, target: '10.0.0.1' }]);
    await discovery.start();
    expect(listed(discovery.peers())).toEqual({ '10': '10.0.0.1:7001' });
    await server.stop();
    cleanups.shift();
    await discovery.refresh();
    expect(listed(discovery.peers())).toEqual({ '10': '10.0.0.1:7001' });
  });

  it('bounds the members taken from one answer and orders them by priority', async () => {
    const { server, discovery } = await setup({ peersMax: 2 });
    server.zone.srv.set(
      service,
      ['d', 'c', 'b', 'a'].map((id, index) => ({
        priority: index,
        weight: 0,
        port: 7000 + index,
        target: `${id}.test.internal`,
      })),
    );
    for (const id of ['a', 'b', 'c', 'd']) server.zone.a.set(`${id}.test.internal`, ['10.0.0.1']);
    await discovery.start();
    expect([...discovery.peers().keys()].sort()).toEqual(['c', 'd']);
  });

  it('lets TcpTransport find its peers', async () => {
    const { server, discovery } = await setup();
    const inbox: Message[] = [];
    const a = new TcpTransport({ clusterId: 'dns', listen: '127.0.0.1:0', discovery });
    const b = new TcpTransport({ clusterId: 'dns', listen: '127.0.0.1:0', discovery });
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    await a.start('a', () => undefined);
    await b.start('b', (message) => inbox.push(message));
    server.zone.srv.set(service, [
      { priority: 0, weight: 0, port: a.address()!.port, target: 'a.test.internal' },
      { priority: 0, weight: 0, port: b.address()!.port, target: 'b.test.internal' },
    ]);
    server.zone.a.set('a.test.internal', ['127.0.0.1']);
    server.zone.a.set('b.test.internal', ['127.0.0.1']);
    await discovery.start();
    a.send({ type: 'timeout-now', term: 4, from: 'a', to: 'b' });
    await waitUntil(() => inbox.length === 1);
    expect(inbox).toEqual([{ type: 'timeout-now', term: 4, from: 'a', to: 'b' }]);
  });

  it('honours an abort signal', async () => {
    const { discovery } = await setup();
    const controller = new AbortController();
    controller.abort();
    await expect(discovery.refresh({ signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(() => new DnsDiscovery({ service, port: 0 })).toThrow(RaftError);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  // Bounded by time, generously, so a loaded machine does not fail it.
  const deadline = performance.now() + 10_000;
  while (!condition() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(condition()).toBe(true);
}
