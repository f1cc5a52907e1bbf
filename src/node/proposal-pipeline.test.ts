import { describe, expect, it } from 'vitest';
import { RaftError, type Entry } from '../core/index.js';
import { Deadlines } from './deadlines.js';
import { NodeCounters } from './node-counters.js';
import { ProposalPipeline } from './proposal-pipeline.js';
import { ProposalRequest } from './proposal-request.js';
import { SimulatedClock } from './simulated-clock.js';

/** A pipeline over a log that places every turn's commands after the last, in `term`. */
function pipelineAt(term: number) {
  let lastIndex = 0;
  const appended: number[] = [];
  const pipeline = new ProposalPipeline({
    batchMax: 64,
    stampSession: () => {
      throw new Error('no sessions here');
    },
    log: {
      append: (commands) => {
        const firstIndex = lastIndex + 1;
        lastIndex += commands.length;
        for (const command of commands) appended.push((command as Uint8Array)[0]!);
        return { placed: true, term, firstIndex, lastIndex };
      },
    },
  });
  const context = {
    deadlines: new Deadlines(new SimulatedClock()),
    requestTimeoutMs: 1000,
    counters: new NodeCounters(),
  };
  const request = (byte = 1, signal?: AbortSignal): ProposalRequest =>
    new ProposalRequest(
      Uint8Array.of(byte),
      undefined,
      context,
      signal === undefined ? {} : { signal },
    );
  const propose = (): Promise<unknown> => pipeline.enqueue(request());
  return { pipeline, propose, request, appended };
}

const applied = (index: number, term: number): Entry => ({
  kind: 'command',
  index,
  term,
  data: Uint8Array.of(1),
});

describe('ProposalPipeline', () => {
  it('settles each caller with the result of its own entry, in the term it was placed in', async () => {
    const { pipeline, propose } = pipelineAt(3);
    const first = propose();
    const second = propose();
    await Promise.resolve(); // the turn's proposals are appended together
    expect(pipeline.waitingCount).toBe(2);
    pipeline.settle(applied(1, 3), 'one');
    pipeline.settle(applied(2, 3), 'two');
    expect(await first).toBe('one');
    expect(await second).toBe('two');
    expect(pipeline.waitingCount).toBe(0);
  });

  it("refuses a caller whose index was taken by another term's entry", async () => {
    const { pipeline, propose } = pipelineAt(3);
    const replaced = propose();
    await Promise.resolve();
    pipeline.settle(applied(1, 4), 'someone else');
    await expect(replaced).rejects.toMatchObject({ code: 'PROPOSAL_DROPPED' });
  });

  it('refuses the earlier waiter when a new entry is placed at its index', async () => {
    const { pipeline, propose, request } = pipelineAt(3);
    const earlier = propose();
    await Promise.resolve();
    // This server lost office, its entry 1 was truncated away, and it leads again in term 5.
    const later = request();
    pipeline.waitForEntry(1, 5, later);
    await expect(earlier).rejects.toMatchObject({ code: 'PROPOSAL_DROPPED' });
    pipeline.settle(applied(1, 5), 'new');
    expect(await later.promise).toBe('new');
  });

  it('appends only the proposals of a turn that were not cancelled while queued', async () => {
    const { pipeline, request, appended } = pipelineAt(3);
    const abort = new AbortController();
    const first = pipeline.enqueue(request(1));
    const cancelled = pipeline.enqueue(request(2, abort.signal));
    const third = pipeline.enqueue(request(3));
    abort.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'ABORTED' });
    expect(appended).toEqual([1, 3]);
    pipeline.settle(applied(1, 3), 'first');
    pipeline.settle(applied(2, 3), 'third');
    expect(await first).toBe('first');
    expect(await third).toBe('third');
  });

  it('rejects every waiting caller when told to fail them', async () => {
    const { pipeline, propose } = pipelineAt(3);
    const waiting = [propose(), propose(), propose()];
    await Promise.resolve();
    const error = new RaftError('STOPPED', 'stopped');
    pipeline.failWaiters(error);
    for (const promise of waiting) await expect(promise).rejects.toBe(error);
    expect(pipeline.waitingCount).toBe(0);
  });
});
