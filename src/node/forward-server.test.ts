import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../codec/message-codec.js';
import { RaftError } from '../core/index.js';
import type { ForwardProposal, ForwardResult, Message } from '../transport/transport.js';
import { ForwardServer, forwardResultBytesMax } from './forward-server.js';
import { NodeCounters } from './node-counters.js';
import type { ResultCodec } from './state-machine.js';

const MiB = 1024 * 1024;

/** A result is a size; it travels as that many bytes. */
const sizedResultCodec: ResultCodec<unknown> = {
  encode: (size) => new Uint8Array(size as number),
  decode: (bytes) => bytes.byteLength,
};

function server() {
  const sent: Message[] = [];
  const forwardServer = new ForwardServer({
    id: 'n1',
    transport: { send: (message) => void sent.push(message) },
    resultCodec: sizedResultCodec,
    counters: new NodeCounters(),
    leaderId: () => 'n1',
  });
  return { forwardServer, sent };
}

function proposal(commands: number): ForwardProposal {
  return {
    type: 'forward-proposal',
    from: 'n2',
    to: 'n1',
    requestId: 7,
    commands: Array.from({ length: commands }, (_, position) => new Uint8Array([position])),
  };
}

async function answer(sent: Message[]): Promise<ForwardResult> {
  for (let turn = 0; turn < 10 && sent.length === 0; turn++) await Promise.resolve();
  expect(sent).toHaveLength(1);
  return sent[0] as ForwardResult;
}

describe('ForwardServer', () => {
  it('keeps the results that fit in one answer and says of the others that they applied', async () => {
    const { forwardServer, sent } = server();
    const sizes = [3 * MiB, 4 * MiB, 2 * MiB, 1];
    forwardServer.serve(proposal(sizes.length), (command) => Promise.resolve(sizes[command[0]!]));
    const result = await answer(sent);
    expect(result.outcomes.map((outcome) => outcome.status)).toEqual([
      'applied',
      'applied',
      'failed',
      'applied',
    ]);
    expect(result.outcomes[2]).toMatchObject({ code: 'RESULT_DISCARDED', outcome: 'applied' });
    const kept = result.outcomes.flatMap((outcome) =>
      outcome.status === 'applied' ? [outcome.result.byteLength] : [],
    );
    expect(kept.reduce((sum, bytes) => sum + bytes, 0)).toBeLessThanOrEqual(forwardResultBytesMax);
    // The whole answer still fits in a frame, so it can be sent at all.
    expect(() => encodeFrame(result)).not.toThrow();
  });

  it('sends each failure with what it did to the command, unknown when the error does not say', async () => {
    const { forwardServer, sent } = server();
    const errors = [
      new RaftError('NOT_LEADER', 'not the leader', {
        details: { leaderId: null, outcome: 'not-applied' },
      }),
      new RaftError('OUTCOME_UNKNOWN', 'leadership lost', { details: { outcome: 'unknown' } }),
      new RaftError('INVARIANT', 'something broke'),
    ];
    forwardServer.serve(proposal(errors.length), (command) => Promise.reject(errors[command[0]!]!));
    const result = await answer(sent);
    expect(result.outcomes).toMatchObject([
      { status: 'failed', code: 'NOT_LEADER', outcome: 'not-applied' },
      { status: 'failed', code: 'OUTCOME_UNKNOWN', outcome: 'unknown' },
      { status: 'failed', code: 'INVARIANT', outcome: 'unknown' },
    ]);
  });
});
