import { describe, expect, it } from 'vitest';
import { RaftError } from '../core/errors.js';
import { createStreamLogger } from '../platform/logger.js';
import { logNodeEvents, type NodeEventSource } from './log-node-events.js';
import type { RaftNodeEvents } from './node-events.js';

describe('logNodeEvents', () => {
  it('logs elections, leader changes, membership, snapshots and fatal errors with the node id', () => {
    const listeners = new Map<string, (payload: never) => void>();
    const node: NodeEventSource = {
      on(event, listener) {
        listeners.set(event, listener);
        return () => listeners.delete(event);
      },
    };
    const emit = <K extends keyof RaftNodeEvents>(event: K, payload: RaftNodeEvents[K]) =>
      (listeners.get(event) as ((value: RaftNodeEvents[K]) => void) | undefined)?.(payload);
    const lines: string[] = [];
    const write = (line: string) => lines.push(line);
    const logger = createStreamLogger({ format: 'json', level: 'info', now: () => 0, write });
    const stop = logNodeEvents(node, logger);
    emit('role', { nodeId: 'n1', role: 'candidate', previousRole: 'follower', term: 2 });
    emit('leader', { nodeId: 'n1', leaderId: 'n1', term: 2 });
    const configuration = { voters: ['n1', 'n2'], outgoingVoters: [], learners: [], addresses: {} };
    emit('membership', {
      nodeId: 'n1',
      change: 'committed',
      index: 7,
      configuration,
      previousConfiguration: { ...configuration, voters: ['n1'] },
    });
    const snapshot = { nodeId: 'n1', index: 90, bytes: 4096, durationMs: 3 };
    // Taken is routine, below the info level here; installed means the node had fallen behind.
    emit('snapshot', { ...snapshot, kind: 'taken', peer: null });
    emit('snapshot', { ...snapshot, kind: 'installed', peer: 'n2' });
    emit('error', { nodeId: 'n1', fatal: true, error: new RaftError('STORAGE_FAILED', 'disk') });
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => [record.level, record.msg, record.nodeId])).toEqual([
      ['info', 'election started', 'n1'],
      ['info', 'leader changed', 'n1'],
      ['info', 'membership change committed', 'n1'],
      ['info', 'snapshot installed', 'n1'],
      ['error', 'stopping: disk', 'n1'],
    ]);
    expect(records[2]).toMatchObject({ voters: ['n1', 'n2'], index: 7 });
    expect(records[3]).toMatchObject({ index: 90, bytes: 4096, peer: 'n2' });
    stop();
    expect(listeners.size).toBe(0);
  });
});
