import { describe, expect, it } from 'vitest';
import type { Entry, Ready } from '../core/index.js';
import { SimulatedClock } from './simulated-clock.js';
import { applyReadies, type AppliedListeners } from './apply-stage.js';
import { EntryApplier } from './entry-applier.js';
import { NodeCounters } from './node-counters.js';
import { notLeaderError } from './node-errors.js';
import type { StateMachine } from './state-machine.js';

const command = (index: number): Entry => ({
  kind: 'command',
  index,
  term: 1,
  data: new Uint8Array([index]),
});

function committing(...entries: Entry[]): Ready {
  return {
    hardState: null,
    entries: [],
    messages: [],
    messagesAfterPersist: [],
    committed: entries,
    reads: [],
    snapshotTransfers: [],
    snapshotMessages: [],
    softState: null,
  };
}

/** Listeners that record, in order, what they were told. */
function listenersFor(stateMachine: StateMachine<unknown, unknown, unknown>) {
  const told: string[] = [];
  const applier = new EntryApplier({
    stateMachine,
    storage: { setBroken: () => Promise.resolve() },
    clock: new SimulatedClock(),
    policy: { idempotentCommands: false, applyAttemptsMax: 1, applyRetryDelayMs: 1 },
    counters: new NodeCounters(),
  });
  const listeners: AppliedListeners = {
    applier,
    snapshots: { onApplied: () => undefined },
    proposals: { settle: (entry, result) => told.push(`${entry.index}=${String(result)}`) },
    membership: { applied: () => undefined },
    events: { applied: (_entries, appliedIndex) => told.push(`applied ${appliedIndex}`) },
    reads: {
      onReadStates: () => undefined,
      serveApplied: (appliedIndex) => told.push(`reads ${appliedIndex}`),
    },
    notLeader: () => notLeaderError({ id: 'a', leaderId: null, leaderAddress: null }),
  };
  return { listeners, told, applier };
}

describe('applyReadies', () => {
  it('applies a synchronous state machine at once: no promise, every caller settled', () => {
    const { listeners, told } = listenersFor({ apply: (data) => data[0]! * 10 });
    const pending = applyReadies(listeners, [
      committing(command(1), command(2)),
      committing(command(3)),
    ]);
    expect(pending).toBeUndefined();
    expect(told).toEqual(['1=10', '2=20', 'applied 2', '3=30', 'applied 3', 'reads 3']);
  });

  it('continues in order from the first asynchronous apply, then settles the rest', async () => {
    const { listeners, told, applier } = listenersFor({
      apply: (data) => (data[0] === 2 ? Promise.resolve('later') : data[0]),
    });
    const pending = applyReadies(listeners, [
      committing(command(1), command(2), command(3)),
      committing(command(4)),
    ]);
    expect(pending).toBeInstanceOf(Promise);
    // The batch's callers are settled together, once the asynchronous entry has finished.
    expect(told).toEqual([]);
    expect(applier.appliedIndex).toBe(1);
    await pending;
    expect(told).toEqual(['1=1', '2=later', '3=3', 'applied 3', '4=4', 'applied 4', 'reads 4']);
  });

  it('rejects with APPLY_FAILED when a synchronous apply throws, after what came before it', async () => {
    const { listeners, applier } = listenersFor({
      apply: (data) => {
        if (data[0] === 2) throw new Error('boom');
        return data[0];
      },
    });
    const pending = applyReadies(listeners, [committing(command(1), command(2))]);
    await expect(pending).rejects.toMatchObject({ code: 'APPLY_FAILED' });
    expect(applier.appliedIndex).toBe(1);
  });

  it("tells the state machine each entry's index and term, for commands and skipped entries", () => {
    const seen: string[] = [];
    const { listeners } = listenersFor({
      apply: (_data, context) => seen.push(`apply ${context.index}/${context.term}`),
      skip: (context) => void seen.push(`skip ${context.index}/${context.term}`),
    });
    const noop: Entry = { kind: 'noop', index: 7, term: 3 };
    const later: Entry = { kind: 'command', index: 8, term: 3, data: Uint8Array.of(1) };
    expect(applyReadies(listeners, [committing(noop, later)])).toBeUndefined();
    expect(seen).toEqual(['skip 7/3', 'apply 8/3']);
  });
});
