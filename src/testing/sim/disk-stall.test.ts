// A leader whose disk stalls keeps leading: its heartbeats and appends leave without waiting for
// its own writes (the core's Ready contract lets them), so followers never time out, and a
// majority of followers commits without it.
import { describe, expect, it } from 'vitest';
import { KeyValueStateMachine, encodeKeyValueCommand } from './key-value-state-machine.js';
import { whenAnyLeader } from './pause-triggers.js';
import { SimCluster } from './sim-cluster.js';

const put = (key: string, value: string): Uint8Array =>
  encodeKeyValueCommand({ kind: 'put', key, value });

describe('a disk that stalls', () => {
  for (const seed of [31, 32, 33]) {
    it(`for a second under the leader causes no election (seed ${seed})`, async () => {
      const cluster = new SimCluster({ seed, stateMachine: () => new KeyValueStateMachine() });
      await cluster.start();
      await cluster.runUntil(whenAnyLeader());
      const leader = cluster.leader()!;
      const term = leader.status().term;
      // Ten election timeouts (10 ticks of 10 ms each) with every write of the leader in flight.
      cluster.setDiskLatency(leader.id, { syncDelayMsMin: 1000, syncDelayMsMax: 1000 });
      const writes = [1, 2, 3].map((n) => leader.propose(put('k', `v${n}`), { timeoutMs: 10_000 }));
      await cluster.runFor(1000);
      cluster.setDiskLatency(leader.id, null);
      expect(await cluster.settle(Promise.all(writes))).toEqual([null, null, null]);
      await cluster.runFor(500);
      expect(cluster.leader()?.id).toBe(leader.id);
      for (const id of cluster.ids) expect(cluster.node(id).status().term).toBe(term);
      expect(cluster.checkers.violations).toEqual([]);
    });
  }
});
