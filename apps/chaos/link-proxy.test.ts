import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { splitHostPort } from '../kv/cluster-layout.js';
import { LinkProxy } from './link-proxy.js';

const servers: Server[] = [];
const proxies: LinkProxy[] = [];
const sockets: Socket[] = [];

/** An echo server on loopback; returns its address. */
async function echoServer(): Promise<string> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return `127.0.0.1:${address.port}`;
}

async function startProxy(target: string): Promise<LinkProxy> {
  const proxy = new LinkProxy({ from: 'n1', to: 'n2', target });
  proxies.push(proxy);
  await proxy.start();
  return proxy;
}

/** Connects to `address`; resolves with the socket and everything it receives. */
async function dial(address: string): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(splitHostPort(address));
  sockets.push(socket);
  socket.on('error', () => undefined);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await once(socket, 'connect');
  return { socket, received: () => text };
}

async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(condition()).toBe(true);
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.stop()));
  for (const server of servers.splice(0)) server.close();
});

describe('LinkProxy', () => {
  it('carries bytes both ways while the link is whole', async () => {
    const proxy = await startProxy(await echoServer());
    const client = await dial(proxy.address);
    client.socket.write('hello');
    await until(() => client.received() === 'hello');
  });

  it('closes open connections when cut, refuses new ones, and carries again once healed', async () => {
    const proxy = await startProxy(await echoServer());
    const before = await dial(proxy.address);
    const closed = once(before.socket, 'close');
    proxy.setCut(true);
    await closed;
    expect(proxy.isCut).toBe(true);
    const during = await dial(proxy.address);
    during.socket.write('lost');
    await once(during.socket, 'close');
    expect(during.received()).toBe('');
    proxy.setCut(false);
    const after = await dial(proxy.address);
    after.socket.write('back');
    await until(() => after.received() === 'back');
  });

  it('delays bytes by the added latency and keeps their order', async () => {
    const proxy = await startProxy(await echoServer());
    const client = await dial(proxy.address);
    proxy.setDelay(150);
    const sentAt = performance.now();
    for (let part = 0; part < 20; part++) client.socket.write(`${part};`);
    await until(() => client.received().endsWith('19;'));
    // Both directions are delayed: the echo crosses the proxy twice.
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(290);
    expect(client.received()).toBe(Array.from({ length: 20 }, (_, part) => `${part};`).join(''));
    proxy.setDelay(0);
    client.socket.write('fast');
    await until(() => client.received().endsWith('fast'));
  });

  it('rejects a latency out of range', async () => {
    const proxy = await startProxy(await echoServer());
    expect(() => proxy.setDelay(-1)).toThrow(RangeError);
    expect(() => proxy.setDelay(Number.NaN)).toThrow(RangeError);
  });
});
