import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreTraceEvent } from '../core/index.js';
import { coreTraceChannelName } from './core-trace-channel.js';
import { TestCluster } from './test-cluster.test-helpers.js';

describe('core trace events on diagnostics_channel', () => {
  let cluster: TestCluster | null = null;
  afterEach(async () => {
    await cluster?.stopAll();
    cluster = null;
  });

  it('shows a subscriber the election and a vote request dropped for the leader lease', async () => {
    const seen: CoreTraceEvent[] = [];
    const listener = (event: unknown): void => {
      seen.push(event as CoreTraceEvent);
    };
    diagnostics.subscribe(coreTraceChannelName, listener);
    try {
      cluster = new TestCluster({ size: 3 });
      await cluster.start();
      const leader = await cluster.waitForLeader();
      expect(seen).toContainEqual(
        expect.objectContaining({ kind: 'role', id: leader.id, role: 'leader' }),
      );
      // A follower that stops hearing the leader campaigns; the other follower still hears the
      // leader, so it drops the request instead of answering it.
      const [cutOff, other] = cluster.ids.filter((id) => id !== leader.id);
      cluster.network.block(leader.id, cutOff!);
      await cluster.runUntil(() =>
        seen.some(
          (event) =>
            event.kind === 'ignored' &&
            event.id === other &&
            event.message.from === cutOff &&
            event.reason === 'leader lease',
        ),
      );
    } finally {
      diagnostics.unsubscribe(coreTraceChannelName, listener);
    }
  });

  it('is the channel name the package exports', async () => {
    const exported = await import('../index.js');
    expect(exported.coreTraceChannelName).toBe('raftkit:core:trace');
  });
});
