import { describe, expect, it } from 'vitest';
import { RaftError, type Entry } from '../core/index.js';
import { Deadlines } from './deadlines.js';
import { NodeCounters } from './node-counters.js';
import { ProposalPipeline } from './proposal-pipeline.js';
import { ProposalBatch } from './proposal-batch.js';
import { ProposalRequest } from './proposal-request.js';
import { SimulatedClock } from './simulated-clock.js';

/** A pipeline over a log that places every turn's commands after the last, in `term`. */
function pipelineAt(term: number, batchMax = 64) {
  let lastIndex = 0;
  const appended: number[] = [];
  const appends: number[] = [];
  const pipeline = new ProposalPipeline({
    batchMax,
    core: { messageBytesMax: 4 },
    stampSession: () => {
      throw new Error('no sessions here');
    },
    log: {
      append: (commands) => {
        const firstIndex = lastIndex + 1;
        lastIndex += commands.length;
        for (const command of commands) appended.push((command as Uint8Array)[0]!);
        appends.push(commands.length);
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
  const batch = (bytes: readonly number[]): ProposalBatch =>
    new ProposalBatch(
      bytes.map((byte) => Uint8Array.of(byte)),
      context,
      {},
    );
  return { pipeline, propose, request, batch, appended, appends, context };
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

  it('refuses a proposal with a command over the message limit alone, appending the rest of its turn', async () => {
    const { pipeline, request, batch, appended, context } = pipelineAt(1);
    const small = pipeline.enqueue(request(1));
    const large = pipeline.enqueue(new ProposalRequest(new Uint8Array(5), undefined, context, {}));
    const mixed = pipeline.enqueueBatch(
      new ProposalBatch([Uint8Array.of(2), new Uint8Array(9)], context, {}),
    );
    const fine = pipeline.enqueueBatch(batch([3, 4]));
    await Promise.resolve();
    for (const refused of [large, mixed]) {
      await expect(refused).rejects.toMatchObject({
        code: 'PROPOSAL_DROPPED',
        details: { outcome: 'not-applied' },
      });
    }
    expect(appended).toEqual([1, 3, 4]);
    for (let index = 1; index <= 3; index++) pipeline.settle(applied(index, 1), index);
    expect(await small).toBe(1);
    expect(await fine).toEqual([2, 3]);
  });

  it('appends a batch in one piece, splitting a turn at batchMax only between proposals', async () => {
    const { pipeline, request, batch, appended, appends } = pipelineAt(3, 4);
    void pipeline.enqueue(request(1));
    void pipeline.enqueueBatch(batch([2, 3, 4]));
    void pipeline.enqueueBatch(batch([5, 6]));
    void pipeline.enqueue(request(7));
    void pipeline.enqueueBatch(batch([8, 9, 10, 11]));
    // Queued: five proposals, eleven commands, and the admission limit counts commands.
    expect(pipeline.pendingCount).toBe(11);
    await Promise.resolve();
    expect(appended).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(appends).toEqual([4, 3, 4]);
    expect(pipeline.pendingCount).toBe(11);
    expect(pipeline.waitingCount).toBe(11);
  });

  it('resolves a batch with its results in order once its last entry is applied', async () => {
    const { pipeline, batch } = pipelineAt(3);
    const proposed = pipeline.enqueueBatch(batch([1, 2, 3]));
    await Promise.resolve();
    let resolved = false;
    void proposed.then(() => (resolved = true));
    pipeline.settle(applied(1, 3), 'a');
    pipeline.settle(applied(2, 3), 'b');
    await Promise.resolve();
    expect(resolved).toBe(false);
    pipeline.settle(applied(3, 3), 'c');
    expect(await proposed).toEqual(['a', 'b', 'c']);
    expect(pipeline.pendingCount).toBe(0);
  });

  it('says how many commands of a batch applied before a new leader cut the rest', async () => {
    const { pipeline, batch } = pipelineAt(3);
    const proposed = pipeline.enqueueBatch(batch([1, 2, 3, 4]));
    await Promise.resolve();
    pipeline.settle(applied(1, 3), 'a');
    pipeline.settle(applied(2, 3), 'b');
    pipeline.settle(applied(3, 4), 'someone else');
    await expect(proposed).rejects.toMatchObject({
      code: 'PROPOSAL_DROPPED',
      details: { outcome: 'unknown', appliedCommands: 2 },
    });
    pipeline.settle(applied(4, 4), 'someone else too');
    expect(pipeline.pendingCount).toBe(0);
  });

  it('refuses a whole batch as not applied when its first entry is replaced', async () => {
    const { pipeline, batch, request } = pipelineAt(3);
    const proposed = pipeline.enqueueBatch(batch([1, 2]));
    await Promise.resolve();
    // This server lost office, the batch was truncated away, and it leads again in term 5.
    pipeline.waitForEntry(1, 5, request());
    await expect(proposed).rejects.toMatchObject({
      code: 'PROPOSAL_DROPPED',
      details: { outcome: 'not-applied', appliedCommands: 0 },
    });
  });

  it('does not count a batch of unknown progress as partly applied', async () => {
    const { pipeline, batch } = pipelineAt(3);
    const proposed = pipeline.enqueueBatch(batch([1, 2, 3]));
    await Promise.resolve();
    // Entry 1 was never applied here (a snapshot covered it), then entry 2 was replaced.
    pipeline.settle(applied(2, 4), 'someone else');
    const error = await proposed.then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({ code: 'PROPOSAL_DROPPED', details: { outcome: 'unknown' } });
    expect(error).not.toHaveProperty('details.appliedCommands');
  });

  it('rejects a batch refused by the log as a whole, with the log’s error', async () => {
    const pipeline = new ProposalPipeline({
      batchMax: 8,
      core: {},
      stampSession: () => {
        throw new Error('no sessions here');
      },
      log: {
        append: () =>
          new RaftError('NOT_LEADER', 'gone', {
            details: { leaderId: null, outcome: 'not-applied' },
          }),
      },
    });
    const context = {
      deadlines: new Deadlines(new SimulatedClock()),
      requestTimeoutMs: 1000,
      counters: new NodeCounters(),
    };
    const proposed = pipeline.enqueueBatch(new ProposalBatch([Uint8Array.of(1)], context, {}));
    await expect(proposed).rejects.toMatchObject({ code: 'NOT_LEADER' });
    expect(pipeline.pendingCount).toBe(0);
  });
});
