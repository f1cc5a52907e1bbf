// The lease's clock-drift bound, tested where it matters: an isolated leader whose clock runs slow
// keeps serving lease reads while followers with fast clocks elect a new leader that acknowledges a
// write. When the configured bound covers the drift the old lease ends first; when it does not, the
// read is stale and the linearizability checker must say so.
import { describe, expect, it } from 'vitest';
import { RaftError } from '../../core/errors.js';
import { checkLinearizability } from '../linearizability/check-linearizability.js';
import { HistoryRecorder } from '../linearizability/history-recorder.js';
import {
  keyValueModel,
  type KeyValueInput,
  type KeyValueOutput,
} from '../linearizability/key-value-model.js';
import { KeyValueStateMachine, encodeKeyValueCommand } from './key-value-state-machine.js';
import { SimCluster } from './sim-cluster.js';

/** n1, the leader, counts time at 0.7 of real time; n2 and n3 at 1.3. */
const clockRates: Readonly<Record<string, number>> = { n1: 0.7, n2: 1.3, n3: 1.3 };

interface Outcome {
  /** What the lease read on the isolated leader answered, or the code it failed with. */
  readonly staleRead: KeyValueOutput | string;
  readonly verdict: ReturnType<typeof checkLinearizability>['result'];
}

/**
 * Writes `x=old` through n1, isolates n1, writes `x=new` through the leader the others elect,
 * then reads `x` on n1 with `consistency: 'lease'`; every operation goes to the history.
 */
async function leaseReadOnIsolatedLeader(clockDriftBoundTicks: number): Promise<Outcome> {
  const cluster = new SimCluster<KeyValueOutput, string, string>({
    seed: 1,
    stateMachine: () => new KeyValueStateMachine(),
    clockRate: (id) => clockRates[id] ?? 1,
    settings: { preVote: true, checkQuorum: true },
    nodeOptions: () => ({ core: { clockDriftBoundTicks } }),
  });
  const history = new HistoryRecorder<KeyValueInput, KeyValueOutput>({
    now: () => cluster.clock.now(),
  });
  const write = async (nodeId: string, value: string) => {
    const input: KeyValueInput = { kind: 'put', key: 'x', value };
    const handle = history.invoke(nodeId, input);
    await cluster.settle(cluster.node(nodeId).propose(encodeKeyValueCommand(input)));
    handle.ok(null);
  };
  await cluster.start();
  await cluster.runUntil(() => cluster.leader() !== null);
  // n1's slow clock makes it the last to campaign: hand it the leadership.
  const first = cluster.leader()!;
  if (first.id !== 'n1') await cluster.settle(first.transferLeadership('n1'));
  await write('n1', 'old');
  await cluster.runFor(50);

  cluster.isolate('n1');
  await cluster.runUntil(() => (cluster.leader()?.id ?? 'n1') !== 'n1');
  await write(cluster.leader()!.id, 'new');
  // The read begins strictly after the write's acknowledgement, as a client's next request would.
  await cluster.runFor(1);

  const read = history.invoke('reader', { kind: 'get', key: 'x' });
  let staleRead: KeyValueOutput | string;
  try {
    staleRead = await cluster.settle(cluster.node('n1').read('x', { consistency: 'lease' }));
    read.ok(staleRead);
  } catch (error) {
    if (!(error instanceof RaftError)) throw error;
    staleRead = error.code;
    read.fail();
  }
  const verdict = checkLinearizability(history.operations(), keyValueModel).result;
  return { staleRead, verdict };
}

describe('lease reads under clock drift', () => {
  it('a bound smaller than the real drift lets a stale lease read through, and the checker reports it', async () => {
    // Lease: 9 of n1's ticks, 129 ms; n2 and n3 wait 10 of theirs, 77 ms, before electing.
    const outcome = await leaseReadOnIsolatedLeader(0);
    expect(outcome).toEqual({ staleRead: 'old', verdict: 'not-linearizable' });
  });

  it('a bound that covers the drift ends the lease first: the same scenario is clean', async () => {
    // Over the 10 ticks a follower waits, n1 counts 10 × 0.7 / 1.3 = 5.4: a bound of 5 leaves a
    // lease of 4 ticks, 57 ms, before anyone may vote for a new leader.
    const outcome = await leaseReadOnIsolatedLeader(5);
    expect(outcome.staleRead).not.toBe('old');
    expect(outcome.verdict).toBe('linearizable');
  });
});
