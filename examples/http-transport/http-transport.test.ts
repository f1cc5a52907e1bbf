import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from 'raftkit';
import { startHttpServers } from './http-test-servers.test-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!condition() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(condition()).toBe(true);
}

describe('HttpTransport example', () => {
  it('refuses a sender with the wrong token and leaves other routes to the application', async () => {
    const { transports, discovery, close } = await startHttpServers(['a', 'b'], (id) => ({
      token: id === 'a' ? 'wrong' : 'right',
    }));
    cleanups.push(close, ...[...transports.values()].map((transport) => () => transport.stop()));
    const inbox: Message[] = [];
    await transports.get('a')!.start('a', () => undefined);
    await transports.get('b')!.start('b', (message) => inbox.push(message));
    transports.get('a')!.send({ type: 'timeout-now', term: 1, from: 'a', to: 'b' });
    await waitFor(() => transports.get('b')!.stats().rejected === 1);
    await waitFor(() => transports.get('a')!.stats().dropped === 1);
    expect(inbox).toEqual([]);
    const address = (await discovery.resolve('b'))!;
    const response = await fetch(`http://127.0.0.1:${address.port}/`);
    expect(await response.text()).toBe('hello from b');
  });
});
