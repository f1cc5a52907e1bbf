import { describe, expect, it } from 'vitest';
import { CoreCluster } from '../testing/script/core-cluster.js';
import { RaftError } from './errors.js';
import { makeCore } from './raft-core.test-helpers.js';
import { RaftCore } from './raft-core.js';

const encoder = new TextEncoder();

describe('the commit index on disk', () => {
  it('rides along with the next save, so a restarted server re-applies what it knew committed', () => {
    const cluster = new CoreCluster({ voters: 3 });
    cluster.core('1').campaign();
    cluster.stabilize();
    for (const text of ['a', 'b', 'c']) {
      cluster.core('1').propose([encoder.encode(text)]);
      cluster.stabilize();
    }
    const follower = cluster.server('2');
    const knownCommit = follower.core.status().commitIndex;
    expect(knownCommit).toBe(4);
    // Entry 4 reached server 2's disk with commit 3 known; the commit of 4 itself came later.
    expect(follower.disk.hardState.commit).toBe(3);

    // A process restart with an in-memory state machine: nothing applied.
    const restarted = new RaftCore(
      { id: '2', random: () => 0 },
      {
        hardState: follower.disk.hardState,
        snapshot: follower.disk.snapshot,
        entries: follower.disk.entries,
      },
    );
    const ready = restarted.ready();
    expect(ready.committed.map((entry) => entry.index)).toEqual([1, 2, 3]);
  });

  it('is never above what finished saves made durable, so a torn save cannot fake lost storage', () => {
    const cluster = new CoreCluster({ voters: 1 });
    cluster.core('1').campaign();
    cluster.stabilize();
    const leader = cluster.core('1');
    leader.propose([encoder.encode('a')]);
    const first = leader.ready();
    // Entry 2 is being written; the commit index (1) covers only the entry written before.
    expect(first.entries.map((entry) => entry.index)).toEqual([2]);
    expect(first.hardState?.commit ?? 0).toBeLessThanOrEqual(1);
    leader.advance(first);
  });

  it('above the last stored entry is reported as lost storage, never clamped', () => {
    let thrown: unknown = null;
    try {
      makeCore({ term: 2, log: [1, 2], commit: 5 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RaftError);
    expect((thrown as RaftError).code).toBe('CORRUPT_STORAGE');
    expect((thrown as RaftError).details).toMatchObject({ commit: 5, lastIndex: 2 });
  });

  it('an applied index above the last stored entry is lost storage too', () => {
    expect(() => makeCore({ term: 2, log: [1, 2], options: { applied: 3 } })).toThrow(
      expect.objectContaining({ code: 'CORRUPT_STORAGE' }),
    );
  });
});
