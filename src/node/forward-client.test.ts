import { describe, expect, it } from 'vitest';
import {
  RaftError,
  isRaftError,
  isSafeToRetry,
  type RaftErrorCode,
  type RequestOutcome,
} from '../core/index.js';
import type {
  ForwardOutcome,
  ForwardProposal,
  ForwardResult,
  Message,
} from '../transport/transport.js';
import { ForwardClient } from './forward-client.js';
import { Deadlines } from './deadlines.js';
import { NodeCounters } from './node-counters.js';
import { ProposalRequest } from './proposal-request.js';
import { SimulatedClock } from './simulated-clock.js';
import { jsonResultCodec } from './state-machine.js';

/** A follower's forward client whose messages are kept, and three proposals of one turn. */
async function forwardedBatch(): Promise<{
  client: ForwardClient;
  sent: ForwardProposal;
  outcomes: Promise<{ result?: unknown; code?: string; reason?: unknown }>[];
}> {
  const messages: Message[] = [];
  const clock = new SimulatedClock();
  const deadlines = new Deadlines(clock);
  const client = new ForwardClient({
    id: 'n2',
    batchMax: 10,
    transport: { send: (message) => messages.push(message) },
    resultCodec: jsonResultCodec,
    firstRequestId: 100,
    leader: () => 'n1',
  });
  const context = { deadlines, requestTimeoutMs: 10_000, counters: new NodeCounters() };
  const outcomes = [1, 2, 3].map((value) => {
    const queued = new ProposalRequest(new Uint8Array([value]), undefined, context, {});
    return client.enqueue(queued).then(
      (result) => ({ result }),
      (error: RaftError) => ({
        code: error.code,
        reason: isRaftError(error, 'COMMAND_REJECTED') ? error.details.reason : undefined,
        outcome: error.details.outcome,
        safeToRetry: isSafeToRetry(error),
      }),
    );
  });
  await Promise.resolve();
  expect(messages).toHaveLength(1);
  return { client, sent: messages[0] as ForwardProposal, outcomes };
}

function answer(sent: ForwardProposal, outcomes: ForwardResult['outcomes']): ForwardResult {
  const base = { type: 'forward-result', from: 'n1', to: 'n2' } as const;
  return { ...base, requestId: sent.requestId, outcomes, leaderId: 'n1' };
}

const failed = (code: RaftErrorCode, outcome: RequestOutcome): ForwardOutcome => ({
  status: 'failed',
  code,
  message: code.toLowerCase(),
  outcome,
  reason: null,
});

const applied = (value: unknown) =>
  ({ status: 'applied', result: jsonResultCodec.encode(value) }) as const;

describe('ForwardClient', () => {
  it('settles each caller with its own command outcome', async () => {
    const { client, sent, outcomes } = await forwardedBatch();
    client.onResult(
      answer(sent, [
        applied(10),
        failed('PROPOSAL_DROPPED', 'not-applied'),
        { ...failed('COMMAND_REJECTED', 'not-applied'), reason: 'TOO_BIG' } as ForwardOutcome,
      ]),
    );
    expect(await Promise.all(outcomes)).toEqual([
      { result: 10 },
      { code: 'PROPOSAL_DROPPED', reason: undefined, outcome: 'not-applied', safeToRetry: true },
      { code: 'COMMAND_REJECTED', reason: 'TOO_BIG', outcome: 'not-applied', safeToRetry: false },
    ]);
  });

  it("keeps the leader's word on what a failure did, so an unknown outcome is never retried blindly", async () => {
    const { client, sent, outcomes } = await forwardedBatch();
    client.onResult(
      answer(sent, [
        failed('OUTCOME_UNKNOWN', 'unknown'),
        failed('RESULT_DISCARDED', 'applied'),
        failed('NOT_LEADER', 'not-applied'),
      ]),
    );
    expect(await Promise.all(outcomes)).toEqual([
      { code: 'OUTCOME_UNKNOWN', reason: undefined, outcome: 'unknown', safeToRetry: false },
      { code: 'RESULT_DISCARDED', reason: undefined, outcome: 'applied', safeToRetry: false },
      { code: 'NOT_LEADER', reason: undefined, outcome: 'not-applied', safeToRetry: true },
    ]);
  });

  it('reports OUTCOME_UNKNOWN, never a definite failure, for an answer that does not match its batch', async () => {
    const { client, sent, outcomes } = await forwardedBatch();
    client.onResult(answer(sent, [applied(10)]));
    expect((await Promise.all(outcomes)).map((outcome) => outcome.code)).toEqual([
      'OUTCOME_UNKNOWN',
      'OUTCOME_UNKNOWN',
      'OUTCOME_UNKNOWN',
    ]);
  });

  it('reports OUTCOME_UNKNOWN for an applied command whose result cannot be decoded', async () => {
    const { client, sent, outcomes } = await forwardedBatch();
    const garbage = { status: 'applied', result: new Uint8Array([0xff]) } as const;
    client.onResult(answer(sent, [applied(1), garbage, applied(3)]));
    expect(await Promise.all(outcomes)).toEqual([
      { result: 1 },
      { code: 'OUTCOME_UNKNOWN', reason: undefined, outcome: 'unknown', safeToRetry: false },
      { result: 3 },
    ]);
  });
});
