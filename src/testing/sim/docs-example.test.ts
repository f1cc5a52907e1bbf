// The complete example of docs/testing.md, kept here so that it is compiled and run.
import { describe, expect, it } from 'vitest';
import type { ApplyContext, StateMachine } from '../../node/index.js';
import { formatTraceTable } from '../trace/index.js';
import { SimCluster, whenAnyLeader, whenCommitIndex } from './index.js';

/** The state machine under test: stock levels that must never go negative. */
class Inventory implements StateMachine<number, string, number> {
  readonly #stock = new Map<string, number>();

  apply(command: Uint8Array, _context: ApplyContext): number {
    const { item, change } = JSON.parse(new TextDecoder().decode(command)) as {
      item: string;
      change: number;
    };
    const next = (this.#stock.get(item) ?? 0) + change;
    if (next < 0) return -1; // refused: not enough stock
    this.#stock.set(item, next);
    return next;
  }

  query(item: string): number {
    return this.#stock.get(item) ?? 0;
  }
}

const change = (item: string, amount: number): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({ item, change: amount }));

describe('docs/testing.md example', () => {
  it('keeps stock consistent when the leader crashes mid-stream', async () => {
    const cluster = new SimCluster({ seed: 2024, nodes: 5, stateMachine: () => new Inventory() });
    try {
      await cluster.start();
      await cluster.runUntil(whenAnyLeader());
      const leader = cluster.leader()!;
      expect(await cluster.settle(leader.propose(change('apples', 10)))).toBe(10);

      // Ten withdrawals race a crash of the leader.
      const withdrawals = Array.from({ length: 10 }, () =>
        leader.propose(change('apples', -3)).catch((error: { code: string }) => error.code),
      );
      await cluster.runUntil(whenCommitIndex(leader.id, 3));
      cluster.crash(leader.id);
      await cluster.runUntil(whenAnyLeader(), { timeMsMax: 2000 });
      cluster.restart(leader.id);

      const next = cluster.leader()!;
      const stock = await cluster.settle(next.read('apples'));
      expect(stock).toBeGreaterThanOrEqual(0);
      expect(stock % 3).toBe(1); // 10 minus some number of 3s
      expect(withdrawals).toHaveLength(10);
      expect(cluster.checkers.violations).toEqual([]);
    } catch (error) {
      console.log(`seed ${cluster.seed}\n${formatTraceTable(cluster.tracer!.last(200))}`);
      throw error;
    }
  });
});
