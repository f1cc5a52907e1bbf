import { afterEach, describe, expect, it } from 'vitest';
import { SnapshottingCounter } from './snapshot-machines.test-helpers.js';
import { TestCluster, encode, rejection } from './test-cluster.test-helpers.js';

// Requests that entered a leader's log and could never be settled by applying their entries
// there, and requests that were never to enter it.

let cluster: TestCluster | null = null;

afterEach(async () => {
  if (cluster !== null) await cluster.settle(cluster.stopAll(), 60_000);
  cluster = null;
});

/**
 * Cuts the leader off with `strand` proposed on it, lets the others elect, write and snapshot
 * past those entries, and heals: the old leader catches up by installing that snapshot, so its
 * stranded entries are never applied there. Returns the old leader and what `strand` returned.
 */
async function strandBehindSnapshot<T>(
  strand: (node: ReturnType<TestCluster['node']>) => Promise<T>,
) {
  const active = new TestCluster({
    size: 3,
    extra: () => ({
      pendingRequestsMax: 8,
      // Long enough that a caller still waits when the snapshot arrives.
      requestTimeoutMs: 600_000,
      snapshots: { entriesMax: 1_000_000, trailingEntries: 0 },
    }),
  });
  cluster = active;
  for (const id of active.ids) await active.startNode(id, new SnapshottingCounter());
  const old = await active.waitForLeader();
  await active.settle(old.propose(encode('add:1')));
  const others = active.ids.filter((id) => id !== old.id);
  active.network.partition([old.id], others);
  const stranded = rejection(strand(old));
  await active.runUntil(() => others.some((id) => active.node(id).role === 'leader'), 60_000);
  const next = active.node(others.find((id) => active.node(id).role === 'leader')!);
  for (let write = 0; write < 20; write++) await active.settle(next.propose(encode('add:1')));
  await active.settle(next.snapshot());
  await active.runUntil(() => next.status().snapshotIndex > 12);
  active.network.heal();
  await active.runUntil(
    () => active.machines.get(old.id)!.total === active.machines.get(next.id)!.total,
    60_000,
  );
  expect((active.machines.get(old.id) as SnapshottingCounter).restoredFrom).not.toBeNull();
  return { old, stranded };
}

describe('requests stranded by a snapshot install', () => {
  it('settle a batch as unknown and free its pending count', async () => {
    const { old, stranded } = await strandBehindSnapshot((node) =>
      node.proposeBatch(Array.from({ length: 8 }, () => encode('add:5'))),
    );
    expect(await cluster!.settle(stranded, 60_000)).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      details: { reason: 'leader-changed', outcome: 'unknown' },
    });
    // The eight stranded slots no longer count against pendingRequestsMax (8): a follower refuses
    // for not leading, not for being busy.
    expect((await rejection(old.propose(encode('add:1')))).code).toBe('NOT_LEADER');
  });

  it('settle a single proposal as unknown', async () => {
    const { stranded } = await strandBehindSnapshot((node) => node.propose(encode('add:5')));
    expect(await cluster!.settle(stranded, 60_000)).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      details: { reason: 'leader-changed' },
    });
  });
});

describe('a request whose signal had aborted before the call', () => {
  it('never enters the log, even behind another proposal of the same turn', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const aborted = AbortSignal.abort();
    const first = leader.propose(encode('add:1'));
    const batch = rejection(leader.proposeBatch([encode('add:100')], { signal: aborted }));
    const single = rejection(leader.propose(encode('add:1000'), { signal: aborted }));
    await cluster.settle(first);
    for (const refused of [await cluster.settle(batch), await cluster.settle(single)]) {
      expect(refused).toMatchObject({
        code: 'ABORTED',
        details: { outcome: 'not-applied' },
      });
    }
    await cluster.settle(leader.propose(encode('add:2')));
    expect(cluster.machines.get(leader.id)!.applied.map((entry) => entry.command)).toEqual([
      'add:1',
      'add:2',
    ]);
  });
});

describe('a command over messageBytesMax', () => {
  it('is refused alone: the other proposals of its turn are applied', async () => {
    cluster = new TestCluster({ size: 3, extra: () => ({ core: { messageBytesMax: 64 } }) });
    await cluster.start();
    const leader = await cluster.waitForLeader();
    const before = leader.propose(encode('add:1'));
    const large = rejection(leader.propose(encode(`add:${'9'.repeat(100)}`)));
    const batch = leader.proposeBatch([encode('add:2'), encode('add:3')]);
    const after = leader.propose(encode('add:4'));
    expect(await cluster.settle(large)).toMatchObject({
      code: 'PROPOSAL_DROPPED',
      details: { outcome: 'not-applied' },
    });
    await cluster.settle(Promise.all([before, batch, after]));
    expect(cluster.machines.get(leader.id)!.applied.map((entry) => entry.command)).toEqual([
      'add:1',
      'add:2',
      'add:3',
      'add:4',
    ]);
  });
});
