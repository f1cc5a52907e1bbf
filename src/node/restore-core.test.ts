import { describe, expect, it } from 'vitest';
import { bootstrapSnapshot, configurationOf, type RaftMessage } from '../core/index.js';
import { MemoryStorage } from '../storage/memory/index.js';
import { InProcessNetwork } from '../transport/in-process/index.js';
import { resolveNodeOptions } from './node-options.js';
import { restoreCore } from './restore-core.js';
import { SessionTable } from './session-table.js';
import { SimulatedClock } from './simulated-clock.js';
import { jsonResultCodec } from './state-machine.js';
import { CounterMachine } from './test-cluster.test-helpers.js';

/** A durable state machine that takes `ms` of the clock to say how far it applied. */
class SlowDurableCounter extends CounterMachine {
  constructor(
    readonly clock: SimulatedClock,
    readonly ms: number,
  ) {
    super();
  }

  appliedIndex(): Promise<number> {
    this.clock.advance(this.ms);
    return Promise.resolve(0);
  }
}

/** Memory storage that takes `ms` of the clock to open, as a long log takes to scan. */
class SlowOpeningStorage extends MemoryStorage {
  openMs = 0;
  /** What the storage says about its previous holder's clean stop. */
  closedForMs: number | undefined;

  constructor(readonly clock: SimulatedClock) {
    super();
  }

  override async open() {
    this.clock.advance(this.openMs);
    const stored = await super.open();
    const { closedForMs } = this;
    return stored === null || closedForMs === undefined ? stored : { ...stored, closedForMs };
  }
}

/**
 * Restores server n2 of a cluster that had reached term 3; opening its storage takes `openMs` and
 * restoring its state machine `restoreMs`.
 */
async function restoredServer(restoreMs: number, openMs = 0, closedForMs?: number) {
  const clock = new SimulatedClock();
  const storage = new SlowOpeningStorage(clock);
  await storage.open();
  await storage.bootstrap(bootstrapSnapshot(configurationOf(['n1', 'n2', 'n3'])), {
    term: 3,
    vote: null,
    commit: 0,
  });
  await storage.close();
  storage.openMs = openMs;
  storage.closedForMs = closedForMs;
  const options = resolveNodeOptions(
    {
      id: 'n2',
      storage,
      transport: new InProcessNetwork({ clock }).transport(),
      stateMachine: new SlowDurableCounter(clock, restoreMs),
      clock,
      tickMs: 100,
    },
    clock,
    jsonResultCodec,
  );
  const { core } = await restoreCore({ ...options, sessions: new SessionTable() });
  return core;
}

const preVote: RaftMessage = {
  type: 'request-vote',
  term: 4,
  from: 'n3',
  to: 'n2',
  lastLogIndex: 0,
  lastLogTerm: 0,
  preVote: true,
  transfer: false,
};

function answers(core: Awaited<ReturnType<typeof restoredServer>>) {
  core.step(preVote);
  const ready = core.ready();
  core.advance(ready);
  return [...ready.messages, ...ready.messagesAfterPersist].filter(
    (message) => message.type === 'request-vote-response',
  );
}

describe('restoreCore', () => {
  it('counts the time spent restoring toward the wait before a restarted server votes', async () => {
    // Restoring took two election timeouts (10 ticks of 100 ms each): no leader can still hold
    // a lease on this server, so it answers a campaign at once.
    const slow = await restoredServer(2_000);
    expect(answers(slow)).toEqual([expect.objectContaining({ granted: true, preVote: true })]);
    // So does the time spent opening storage.
    const slowOpen = await restoredServer(0, 2_000);
    expect(answers(slowOpen)).toEqual([expect.objectContaining({ granted: true, preVote: true })]);
    // A quick restore leaves most of the wait: the campaign is ignored.
    const quick = await restoredServer(0);
    expect(answers(quick)).toEqual([]);
  });

  it('counts the time since a clean stop when storage knows it', async () => {
    // Stopped cleanly two election timeouts ago: it has acknowledged nothing since.
    const rested = await restoredServer(0, 0, 2_000);
    expect(answers(rested)).toEqual([expect.objectContaining({ granted: true, preVote: true })]);
    // Stopped 300 ms ago: most of the wait remains.
    const recent = await restoredServer(0, 0, 300);
    expect(answers(recent)).toEqual([]);
  });
});
