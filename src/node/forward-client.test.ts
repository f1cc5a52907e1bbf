import { describe, expect, it } from 'vitest';
import { RaftError } from '../core/index.js';
import type { ForwardProposal, ForwardResult, Message } from '../transport/transport.js';
import { ForwardClient } from './forward-client.js';
import { Deadlines } from './deadlines.js';
import { cancelledInLog } from './node-errors.js';
import { PendingRequest } from './pending-request.js';
import type { QueuedProposal } from './proposal-pipeline.js';
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
  const outcomes = [1, 2, 3].map((value) => {
    const queued: QueuedProposal = {
      command: new Uint8Array([value]),
      session: undefined,
      placed: false,
      request: new PendingRequest({
        deadlines,
        timeoutMs: 10_000,
        onCancel: (reason) => cancelledInLog(reason),
      }),
    };
    return client.enqueue(queued).then(
      (result) => ({ result }),
      (error: RaftError) => ({ code: error.code, reason: error.details.reason }),
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

const applied = (value: unknown) =>
  ({ status: 'applied', result: jsonResultCodec.encode(value) }) as const;

describe('ForwardClient', () => {
  it('settles each caller with its own command outcome', async () => {
    const { client, sent, outcomes } = await forwardedBatch();
    client.onResult(
      answer(sent, [
        applied(10),
        { status: 'failed', code: 'PROPOSAL_DROPPED', message: 'limit', reason: null },
        { status: 'failed', code: 'COMMAND_REJECTED', message: 'too big', reason: 'TOO_BIG' },
      ]),
    );
    expect(await Promise.all(outcomes)).toEqual([
      { result: 10 },
      { code: 'PROPOSAL_DROPPED', reason: undefined },
      { code: 'COMMAND_REJECTED', reason: 'TOO_BIG' },
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
      { code: 'OUTCOME_UNKNOWN', reason: undefined },
      { result: 3 },
    ]);
  });
});
