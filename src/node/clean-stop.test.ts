import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../storage/memory/index.js';
import type { Transport } from '../transport/transport.js';
import { isRaftError } from '../core/index.js';
import { RaftNode } from './raft-node.js';
import { CounterMachine } from './test-cluster.test-helpers.js';

/** Memory storage that logs when a clean stop is recorded and when it closes. */
class LoggingStorage extends MemoryStorage {
  constructor(readonly log: string[]) {
    super();
  }

  recordCleanStop(): Promise<void> {
    this.log.push('record clean stop');
    return Promise.resolve();
  }

  override close(): Promise<void> {
    this.log.push('close storage');
    return super.close();
  }
}

/** A transport that logs its start and stop, and counts what it is asked to send. */
function loggingTransport(log: string[]): Transport & { sent: number } {
  let started = false;
  return {
    sent: 0,
    start() {
      started = true;
      log.push('start transport');
      return Promise.resolve();
    },
    send() {
      if (started) this.sent++;
    },
    stop() {
      started = false;
      log.push('stop transport');
      return Promise.resolve();
    },
  };
}

/** A counter that takes until `release` to say how far it applied, as a slow restore would. */
class HeldCounter extends CounterMachine {
  release: () => void = () => undefined;
  readonly #held = new Promise<void>((resolve) => (this.release = resolve));

  async appliedIndex(): Promise<number> {
    await this.#held;
    return 0;
  }
}

describe('RaftNode clean stop', () => {
  it('records a clean stop only once its transport has stopped, then closes storage', async () => {
    const log: string[] = [];
    const node = new RaftNode({
      id: 'n1',
      storage: new LoggingStorage(log),
      transport: loggingTransport(log),
      stateMachine: new CounterMachine(),
      initialConfiguration: ['n1', 'n2', 'n3'],
    });
    await node.start();
    await node.stop();
    expect(log).toEqual([
      'start transport',
      'stop transport',
      'record clean stop',
      'close storage',
    ]);
  });

  it('a stop during start leaves the node stopped: it neither runs nor keeps its transport', async () => {
    // Otherwise the node would go on answering heartbeats after its clean stop was recorded, and
    // its next start would count silence that never was.
    const log: string[] = [];
    const transport = loggingTransport(log);
    const machine = new HeldCounter();
    const node = new RaftNode({
      id: 'n1',
      storage: new LoggingStorage(log),
      transport,
      stateMachine: machine,
      initialConfiguration: ['n1', 'n2', 'n3'],
    });
    const starting = node.start();
    await new Promise((resolve) => setImmediate(resolve));
    await node.stop();
    machine.release();
    const failure = await starting.then(
      () => null,
      (error: unknown) => error,
    );
    expect(isRaftError(failure, 'STOPPED')).toBe(true);
    expect(node.running).toBe(false);
    expect(log.at(-1)).not.toBe('start transport');
    expect(log.lastIndexOf('stop transport')).toBeGreaterThan(log.indexOf('start transport'));
    expect(transport.sent).toBe(0);
  });
});
