import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, stopAll, waitFor, type TestNode } from './tcp-test-cluster.test-helpers.js';

const running: TestNode[] = [];

afterEach(async () => {
  await stopAll(running.splice(0));
});

describe('TcpTransport early dials', () => {
  it('connects before the first message: to known peers, and back to each peer that dials in', async () => {
    // `a` starts alone; `b` starts knowing `a` and dials it; `a`, hearing from `b`, dials back.
    // A starting cluster's first votes then find every connection open.
    const { nodes } = await startCluster(['a', 'b']);
    running.push(...nodes.values());
    const a = nodes.get('a')!;
    const b = nodes.get('b')!;
    await waitFor(
      () => a.transport.isConnected('b') && b.transport.isConnected('a'),
      'both connections open',
    );
    expect(a.transport.stats().sent + b.transport.stats().sent).toBe(0);
    expect([...a.inbox, ...b.inbox]).toEqual([]);
  });
});
