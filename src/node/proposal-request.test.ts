import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';
import { NodeCounters } from './node-counters.js';
import { ProposalRequest } from './proposal-request.js';
import { SimulatedClock } from './simulated-clock.js';

function context() {
  const clock = new SimulatedClock();
  const counters = new NodeCounters();
  return { clock, counters, deadlines: new Deadlines(clock), requestTimeoutMs: 100 };
}

const command = new Uint8Array([1]);

describe('ProposalRequest', () => {
  it('times out as not applied before it reaches a log, and counts the cancellation', async () => {
    const shared = context();
    const request = new ProposalRequest(command, undefined, shared, {});
    shared.clock.advance(100);
    await expect(request.promise).rejects.toMatchObject({
      code: 'TIMEOUT',
      details: { outcome: 'not-applied' },
    });
    expect(shared.counters.values().proposalsCancelled).toBe(1);
  });

  it('times out with its outcome unknown once placed, at its own deadline', async () => {
    const shared = context();
    const request = new ProposalRequest(command, undefined, shared, { timeoutMs: 30 });
    request.placed = true;
    shared.clock.advance(29);
    expect(request.settled).toBe(false);
    shared.clock.advance(1);
    await expect(request.promise).rejects.toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      details: { reason: 'timeout', outcome: 'unknown' },
    });
  });

  it('aborts with its signal, and an answer after that changes nothing', async () => {
    const shared = context();
    const controller = new AbortController();
    const request = new ProposalRequest(command, undefined, shared, {
      signal: controller.signal,
    });
    controller.abort();
    request.resolve('late');
    await expect(request.promise).rejects.toMatchObject({ code: 'ABORTED' });
    expect(shared.deadlines.size).toBe(0);
  });

  it('settles once with its answer, leaving no deadline behind', async () => {
    const shared = context();
    const request = new ProposalRequest(command, undefined, shared, {});
    request.resolve(7);
    request.reject(new Error('too late'));
    shared.clock.advance(1000);
    await expect(request.promise).resolves.toBe(7);
    expect(shared.deadlines.size).toBe(0);
    expect(shared.counters.values().proposalsCancelled).toBe(0);
  });
});
