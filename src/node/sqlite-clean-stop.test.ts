// A node on SqliteStorage, stopped cleanly, leaves the record its next start counts as silence:
// the wiring the storage's own tests cannot reach (the node must record before it closes, and
// SqliteStorage opened by path closes its database on close).
import { afterEach, describe, expect, it } from 'vitest';
import { testStopClock } from '../storage/clean-stop.test-helpers.js';
import { SqliteStorage } from '../storage/sqlite/index.js';
import {
  databasePath,
  removeDatabases,
} from '../storage/sqlite/temporary-databases.test-helpers.js';
import type { Transport } from '../transport/transport.js';
import { RaftNode } from './raft-node.js';
import { CounterMachine } from './test-cluster.test-helpers.js';

afterEach(removeDatabases);

/** A transport with nobody on the other side: the only member needs none. */
const silentTransport: Transport = {
  start: () => Promise.resolve(),
  send: () => undefined,
  stop: () => Promise.resolve(),
};

function nodeOn(storage: SqliteStorage): RaftNode<number, 'total', number> {
  return new RaftNode({
    id: 'n1',
    storage,
    transport: silentTransport,
    stateMachine: new CounterMachine(),
    initialConfiguration: ['n1'],
  });
}

describe('RaftNode on SqliteStorage, stopped cleanly', () => {
  it('records the stop, which the next open reports once, and a stop-less close does not', async () => {
    const path = databasePath();
    const clock = testStopClock();
    const node = nodeOn(new SqliteStorage({ path, stopClock: clock }));
    await node.start();
    await node.stop();
    clock.nowMs += 1_200;
    const restarted = new SqliteStorage({ path, stopClock: clock });
    expect((await restarted.open())?.closedForMs).toBe(1_200);
    // Closed without a stop, as a crash would leave it: nothing to report.
    await restarted.close();
    const afterCrash = new SqliteStorage({ path, stopClock: clock });
    expect(await afterCrash.open()).not.toHaveProperty('closedForMs');
    await afterCrash.close();
  });
});
