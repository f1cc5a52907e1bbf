import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError, isSafeToRetry, RaftError, seededRandom } from '../core/index.js';
import { rejectCommand, type CommandRejection } from './command-rejection.js';
import type { RaftNodeOptions } from './node-options.js';
import type { RaftNode } from './raft-node.js';
import { CounterMachine, TestCluster, encode, rejection } from './test-cluster.test-helpers.js';

let cluster: TestCluster | null = null;

afterEach(async () => {
  if (cluster !== null) await cluster.settle(cluster.stopAll(), 60_000);
  cluster = null;
});

type Node = RaftNode<number, 'total', number>;
type ExtraOptions = Partial<RaftNodeOptions<number, 'total', number>>;

/** `add:N` commands for N in `values`. */
const adds = (values: readonly number[]): Uint8Array[] => values.map((n) => encode(`add:${n}`));

/** 1, 2, ..., count. */
const upTo = (count: number): number[] => Array.from({ length: count }, (_, n) => n + 1);

/** A started 3-node cluster on simulated time, every node with `extra`; returns its leader. */
async function startCluster(extra: ExtraOptions = {}): Promise<Node> {
  cluster = new TestCluster({ size: 3, extra: () => extra });
  await cluster.start();
  return cluster.waitForLeader();
}

/** Every node's applied commands, once each node has applied `count` of them. */
async function appliedEverywhere(count: number): Promise<{ index: number; command: string }[][]> {
  await cluster!.runUntil(() =>
    [...cluster!.machines.values()].every((machine) => machine.applied.length >= count),
  );
  return [...cluster!.machines.values()].map((machine) => machine.applied);
}

/** The log indexes at which `commands` were applied, in their order. */
function indexesOf(applied: readonly { index: number; command: string }[], commands: string[]) {
  return commands.map((command) => {
    const found = applied.filter((entry) => entry.command === command);
    expect(found).toHaveLength(1); // applied once
    return found[0]!.index;
  });
}

const consecutive = (indexes: readonly number[]): boolean =>
  indexes.every((index, position) => position === 0 || index === indexes[position - 1]! + 1);

describe('RaftNode.proposeBatch: results and entries', () => {
  it('resolves with each command’s own result, in the order given', async () => {
    const leader = await startCluster();
    const results = await cluster!.settle(leader.proposeBatch(adds(upTo(64))));
    // Command n adds n, so in log order its result is the running sum up to it.
    expect(results).toEqual(upTo(64).map((n) => (n * (n + 1)) / 2));
    expect(leader.status().counters.proposals).toBe(64);
  });

  it('appends each command as its own entry, consecutive, applied once on every node', async () => {
    const leader = await startCluster({ proposalBatchMax: 10 });
    // Plain proposals before, between and after two batches in one turn, over proposalBatchMax
    // (10) in all: the turn is appended in parts, never splitting a batch.
    const first = ['add:101', 'add:102', 'add:103', 'add:104', 'add:105', 'add:106', 'add:107'];
    const second = ['add:201', 'add:202', 'add:203', 'add:204', 'add:205', 'add:206'];
    const all = Promise.all([
      leader.propose(encode('add:1')),
      leader.proposeBatch(first.map(encode)),
      leader.propose(encode('add:2')),
      leader.propose(encode('add:3')),
      leader.proposeBatch(second.map(encode)),
      leader.propose(encode('add:4')),
    ]);
    await cluster!.settle(all);
    for (const applied of await appliedEverywhere(17)) {
      expect(applied).toHaveLength(17);
      for (const batch of [first, second]) {
        const indexes = indexesOf(applied, batch);
        expect(consecutive(indexes)).toBe(true);
      }
    }
  });

  it('resolves an empty batch with [] without touching the log', async () => {
    const leader = await startCluster();
    const before = leader.status().counters.proposals;
    expect(await leader.proposeBatch([])).toEqual([]);
    expect(leader.status().counters.proposals).toBe(before);
  });

  it('gives a command its state machine refused a COMMAND_REJECTED in its place', async () => {
    class Picky extends CounterMachine {
      override apply(command: Uint8Array, context: { index: number }): number | CommandRejection {
        const text = new TextDecoder().decode(command);
        if (text === 'bad') return rejectCommand('BAD_COMMAND', 'not a number');
        return super.apply(command, context);
      }
    }
    cluster = new TestCluster({ size: 3 });
    for (const id of cluster.ids) await cluster.startNode(id, new Picky());
    const leader = await cluster.waitForLeader();
    const results = await cluster.settle(
      leader.proposeBatch([encode('add:1'), encode('bad'), encode('add:2')]),
    );
    expect(results[0]).toBe(1);
    expect(results[2]).toBe(3);
    const refused = results[1];
    expect(isRaftError(refused, 'COMMAND_REJECTED')).toBe(true);
    expect(refused).toMatchObject({ details: { reason: 'BAD_COMMAND' } });
  });

  it('lets the caller reuse its array once the call returns', async () => {
    const leader = await startCluster();
    const commands = adds([1, 2]);
    const batch = leader.proposeBatch(commands);
    commands.length = 0;
    commands.push(encode('add:100'));
    expect(await cluster!.settle(batch)).toEqual([1, 3]);
  });
});

describe('RaftNode.proposeBatch: refusals', () => {
  it('refuses on a follower with NOT_LEADER naming the leader, forwarding or not', async () => {
    for (const forwardProposals of [false, true]) {
      const leader = await startCluster({ forwardProposals });
      await cluster!.runUntil(() =>
        [...cluster!.nodes.values()].every((node) => node.leaderId !== null),
      );
      const follower = [...cluster!.nodes.values()].find((node) => node !== leader)!;
      const error = await rejection(follower.proposeBatch(adds([1, 2])));
      expect(error).toMatchObject({
        code: 'NOT_LEADER',
        details: { leaderId: leader.id, outcome: 'not-applied' },
      });
      expect(error.message.includes('not forwarded')).toBe(forwardProposals);
      await cluster!.settle(cluster!.stopAll(), 60_000);
      cluster = null;
    }
  });

  it('refuses with NO_LEADER while no leader is known, safe to retry', async () => {
    cluster = new TestCluster({ size: 3 });
    await cluster.start();
    const error = await rejection(cluster.node('n1').proposeBatch(adds([1])));
    expect(error.code).toBe('NO_LEADER');
    expect(isSafeToRetry(error)).toBe(true);
  });

  it('refuses with STOPPED once the node stopped', async () => {
    const leader = await startCluster();
    await cluster!.settle(leader.stop());
    const error = await rejection(leader.proposeBatch(adds([1])));
    expect(error).toMatchObject({ code: 'STOPPED', details: { outcome: 'not-applied' } });
  });

  it('refuses a call that can never succeed with INVALID_CONFIG, before anything is sent', async () => {
    const leader = await startCluster({ proposalBatchMax: 8 });
    const cases: [unknown, unknown, string][] = [
      [adds(upTo(9)), {}, 'commands'],
      [[encode('add:1'), 'add:2'], {}, 'commands[1]'],
      ['add:1', {}, 'commands'],
      [adds([1]), { session: { id: 1, sequence: 1 } }, 'session'],
      [adds([1]), { timeoutMs: -1 }, 'timeoutMs'],
    ];
    for (const [commands, options, option] of cases) {
      const error = await rejection(
        leader.proposeBatch(commands as Uint8Array[], options as { timeoutMs?: number }),
      );
      expect(error).toMatchObject({
        code: 'INVALID_CONFIG',
        details: { option, outcome: 'not-applied' },
      });
    }
    // Exactly proposalBatchMax is fine.
    expect(await cluster!.settle(leader.proposeBatch(adds(upTo(8))))).toHaveLength(8);
    expect(cluster!.machines.get(leader.id)!.total).toBe(36);
  });

  it('caps a batch at pendingRequestsMax too, so that it can ever be admitted', async () => {
    const leader = await startCluster({ pendingRequestsMax: 5 });
    const error = await rejection(leader.proposeBatch(adds(upTo(6))));
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', details: { value: 6 } });
  });

  it('refuses a whole batch with one command over messageBytesMax: none applies', async () => {
    const leader = await startCluster({ core: { messageBytesMax: 1024 } });
    const huge = new Uint8Array(2048).fill(0x31);
    const error = await cluster!.settle(
      rejection(leader.proposeBatch([encode('add:1'), huge, encode('add:2')])),
    );
    expect(error).toMatchObject({ code: 'PROPOSAL_DROPPED', details: { outcome: 'not-applied' } });
    expect(await cluster!.settle(leader.proposeBatch(adds([5])))).toEqual([5]);
    for (const machine of cluster!.machines.values()) {
      await cluster!.runUntil(() => machine.applied.length === 1);
      expect(machine.applied.map((entry) => entry.command)).toEqual(['add:5']);
    }
  });

  it('counts one pending request per command against pendingRequestsMax, and frees them', async () => {
    const leader = await startCluster({ pendingRequestsMax: 10, requestTimeoutMs: 60_000 });
    // Cut the leader off: what it appends cannot commit, so it stays pending.
    cluster!.network.partition(
      [leader.id],
      cluster!.ids.filter((id) => id !== leader.id),
    );
    const waiting = [leader.proposeBatch(adds(upTo(6))), leader.propose(encode('add:7'))];
    for (const promise of waiting) promise.catch(() => undefined);
    const busy = await rejection(leader.proposeBatch(adds(upTo(4))));
    expect(busy).toMatchObject({ code: 'BUSY', details: { outcome: 'not-applied' } });
    const fits = leader.proposeBatch(adds(upTo(3)));
    fits.catch(() => undefined);
    expect((await rejection(leader.propose(encode('add:1')))).code).toBe('BUSY');
    // The others elect a leader that commits entries of its own, and the old leader's entries
    // are replaced: everything pending settles and the counts are freed.
    const others = cluster!.ids.filter((id) => id !== leader.id);
    const next = (): Node | undefined =>
      others.map((id) => cluster!.node(id)).find((node) => node.role === 'leader');
    await cluster!.runUntil(() => next() !== undefined, 60_000);
    // Entries at every index the old leader used, so each of its waiters learns its fate.
    await cluster!.settle(next()!.proposeBatch(adds(upTo(10))));
    cluster!.network.heal();
    const replaced = await cluster!.settle(Promise.all([...waiting, fits].map(rejection)), 60_000);
    for (const error of replaced) expect(error.code).toBe('PROPOSAL_DROPPED');
    // Admitted as far as the pending limit goes (BUSY comes first): only the role refuses it now.
    await cluster!.runUntil(() => leader.role === 'follower' && leader.leaderId !== null);
    expect((await rejection(leader.proposeBatch(adds(upTo(10))))).code).toBe('NOT_LEADER');
  });

  it('honours an AbortSignal and a timeout, saying whether the batch may still apply', async () => {
    const leader = await startCluster();
    const aborted = new AbortController();
    aborted.abort();
    const early = await rejection(leader.proposeBatch(adds([1]), { signal: aborted.signal }));
    expect(early).toMatchObject({ code: 'ABORTED', details: { outcome: 'not-applied' } });
    cluster!.network.partition(
      [leader.id],
      cluster!.ids.filter((id) => id !== leader.id),
    );
    const late = await cluster!.settle(
      rejection(leader.proposeBatch(adds([2, 3]), { timeoutMs: 50 })),
    );
    expect(late).toMatchObject({ code: 'OUTCOME_UNKNOWN', details: { reason: 'timeout' } });
    const signal = new AbortController();
    const given = rejection(leader.proposeBatch(adds([4, 5]), { signal: signal.signal }));
    await new Promise((resolve) => setImmediate(resolve));
    signal.abort();
    expect(await cluster!.settle(given)).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      details: { reason: 'aborted' },
    });
  });
});

describe('RaftNode.proposeBatch: stop', () => {
  it('tells a batch waiting in the log at stop that its fate is unknown', async () => {
    const leader = await startCluster({ stopDrainMs: 100, requestTimeoutMs: 60_000 });
    cluster!.network.partition(
      [leader.id],
      cluster!.ids.filter((id) => id !== leader.id),
    );
    const waiting = rejection(leader.proposeBatch(adds([1, 2, 3])));
    await cluster!.settle(new Promise((resolve) => setImmediate(resolve)));
    await cluster!.settle(leader.stop());
    expect(await waiting).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      details: { reason: 'stopped', outcome: 'unknown' },
    });
  });

  it('refuses a batch still queued when the node stops, as not applied', async () => {
    const leader = await startCluster();
    const queued = rejection(leader.proposeBatch(adds([1, 2])));
    const stopping = leader.stop(); // in the same turn: the batch has not been appended yet
    expect(await queued).toMatchObject({ code: 'STOPPED', details: { outcome: 'not-applied' } });
    await cluster!.settle(stopping);
  });
});

describe('RaftNode.proposeBatch: leader changes', () => {
  it('rejects a batch a new leader cut from the log, and none of it applies anywhere', async () => {
    const old = await startCluster({ requestTimeoutMs: 60_000 });
    await cluster!.settle(old.propose(encode('add:1000')));
    const others = cluster!.ids.filter((id) => id !== old.id);
    cluster!.network.partition([old.id], others);
    const cut = rejection(old.proposeBatch(adds(upTo(16))));
    const next = await cluster!.waitForLeader(60_000).then(async () => {
      await cluster!.runUntil(() => others.some((id) => cluster!.node(id).role === 'leader'));
      return cluster!.node(others.find((id) => cluster!.node(id).role === 'leader')!);
    });
    expect(await cluster!.settle(next.proposeBatch(adds([1, 2])))).toEqual([1001, 1003]);
    cluster!.network.heal();
    const error = await cluster!.settle(cut, 60_000);
    expect(error).toMatchObject({
      code: 'PROPOSAL_DROPPED',
      details: { outcome: 'not-applied', appliedCommands: 0 },
    });
    expect(isSafeToRetry(error)).toBe(true);
    for (const applied of await appliedEverywhere(3)) {
      expect(applied.map((entry) => entry.command)).toEqual(['add:1000', 'add:1', 'add:2']);
    }
  });

  it('resolves a batch its leader lost office over, once the next leader committed it', async () => {
    const old = await startCluster({ requestTimeoutMs: 60_000 });
    await cluster!.settle(old.propose(encode('add:0'))); // the followers are in replicate state
    const others = cluster!.ids.filter((id) => id !== old.id);
    // The followers receive the batch but the leader never hears them take it: it cannot commit.
    cluster!.network.setInterceptor((message) =>
      message.type === 'append-entries-response' && message.to === old.id ? null : message,
    );
    const batch = old.proposeBatch(adds(upTo(32)));
    const lastIndex = await cluster!.settle(
      new Promise<number>((resolve) => setImmediate(() => resolve(old.status().lastIndex))),
    );
    await cluster!.runUntil(() =>
      others.every((id) => cluster!.node(id).status().lastIndex === lastIndex),
    );
    cluster!.network.partition([old.id], others);
    await cluster!.runUntil(
      () => others.some((id) => cluster!.node(id).status().commitIndex >= lastIndex),
      60_000,
    );
    expect(cluster!.machines.get(old.id)!.applied).toHaveLength(1);
    cluster!.network.setInterceptor(null);
    cluster!.network.heal();
    // The old leader learns the entries it placed were kept in their term: its caller gets results.
    const results = await cluster!.settle(batch, 60_000);
    expect(results).toEqual(upTo(32).map((n) => (n * (n + 1)) / 2));
    expect(old.role).not.toBe('leader');
    for (const applied of await appliedEverywhere(33)) {
      expect(
        consecutive(
          indexesOf(
            applied,
            upTo(32).map((n) => `add:${n}`),
          ),
        ),
      ).toBe(true);
    }
  });
});

describe('RaftNode.proposeBatch: under faults', () => {
  it.each([1, 2, 3, 4])(
    'says truthfully what became of every batch under loss, duplication and partitions (seed %i)',
    async (seed) => {
      cluster = new TestCluster({ size: 3, seed, extra: () => ({ requestTimeoutMs: 1_000 }) });
      await cluster.start();
      await cluster.waitForLeader();
      const network = cluster.network;
      network.setFaults({ dropRate: 0.05, duplicateRate: 0.05, delayMsMin: 0, delayMsMax: 5 });
      const random = seededRandom(seed);
      const batches: { commands: string[]; outcome: Promise<unknown> }[] = [];
      let value = 1;
      for (let round = 0; round < 80; round++) {
        const leader = cluster.leader();
        if (leader !== null) {
          const commands = Array.from({ length: 1 + Math.floor(random() * 8) }, () => {
            return `add:${value++}`;
          });
          const outcome = leader
            .proposeBatch(commands.map(encode))
            .catch((error: unknown) => error);
          batches.push({ commands, outcome });
        }
        const draw = random();
        if (draw < 0.2) {
          // Mostly the leader, so that batches are cut off, replaced or kept by the next one.
          const isolated =
            leader !== null && random() < 0.7
              ? leader.id
              : cluster.ids[Math.floor(random() * cluster.ids.length)]!;
          network.partition(
            [isolated],
            cluster.ids.filter((id) => id !== isolated),
          );
        } else if (draw < 0.35) network.heal();
        const until = cluster.clock.now() + 30;
        await cluster.runUntil(() => cluster!.clock.now() >= until);
      }
      network.heal();
      network.setFaults({ dropRate: 0, duplicateRate: 0, delayMsMin: 0, delayMsMax: 0 });
      const outcomes = await cluster.settle(Promise.all(batches.map((batch) => batch.outcome)));
      // A last write that every node applies, so that all of them have applied everything.
      const leader = await cluster.waitForLeader();
      await cluster.settle(leader.proposeBatch([encode('add:0')]), 10_000);
      const logs = await appliedEverywhere(1);
      await cluster.runUntil(() => logs.every((log) => log.at(-1)?.command === 'add:0'));
      const log = logs[0]!;
      for (const other of logs) expect(other).toEqual(log);
      const totals = new Map<string, { index: number; total: number }>();
      let total = 0;
      for (const entry of log) {
        expect(totals.has(entry.command)).toBe(false); // each command applied at most once
        total += Number(entry.command.split(':')[1]);
        totals.set(entry.command, { index: entry.index, total });
      }
      let resolved = 0;
      batches.forEach(({ commands }, position) => {
        const outcome = outcomes[position];
        const applied = commands.filter((command) => totals.has(command));
        // What applied of a batch is always its first commands, at consecutive indexes.
        expect(applied).toEqual(commands.slice(0, applied.length));
        expect(consecutive(applied.map((command) => totals.get(command)!.index))).toBe(true);
        if (Array.isArray(outcome)) {
          resolved++;
          expect(outcome).toEqual(commands.map((command) => totals.get(command)?.total));
          return;
        }
        expect(outcome).toBeInstanceOf(RaftError);
        const error = outcome as RaftError;
        if (error.details.outcome === 'not-applied') expect(applied).toEqual([]);
        if (isRaftError(error, 'PROPOSAL_DROPPED') && error.details.appliedCommands !== undefined) {
          expect(applied).toHaveLength(error.details.appliedCommands);
        }
      });
      expect(resolved).toBeGreaterThan(0);
    },
  );
});
