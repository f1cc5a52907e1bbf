import { afterEach, describe, expect, it } from 'vitest';
import { RaftNode, type ResultCodec } from 'raftkit';
import { MemoryStorage } from 'raftkit/storage/memory';
import { InProcessNetwork } from 'raftkit/transport/in-process';
import { KvMetrics } from '../metrics/kv-metrics.js';
import { RespReplyParser } from '../resp/resp-reply-parser.js';
import { KvStateMachine } from '../state/kv-state-machine.js';
import { bytes, command, transaction } from '../state/kv-harness.test-helpers.js';
import { RequestExecutor, type KvNode } from './request-executor.js';

const bytesResultCodec: ResultCodec<Uint8Array> = {
  encode: (result) => result,
  decode: (bytes) => bytes,
};

interface Server {
  readonly node: KvNode;
  readonly machine: KvStateMachine;
}

let servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.map(({ node }) => node.stop()));
  servers = [];
});

/** Three servers as the KV server runs them (forwarding, bytes results), in one process. */
async function startServers(network: InProcessNetwork): Promise<Server[]> {
  const ids = ['a', 'b', 'c'];
  servers = ids.map((id) => {
    const machine = new KvStateMachine();
    const node: KvNode = new RaftNode({
      id,
      storage: new MemoryStorage(),
      transport: network.transport(),
      stateMachine: machine,
      initialConfiguration: ids,
      tickMs: 10,
      forwardProposals: true,
      resultCodec: bytesResultCodec,
    });
    return { node, machine };
  });
  await Promise.all(servers.map(({ node }) => node.start()));
  const deadline = performance.now() + 20_000;
  while (!servers.every(({ node }) => node.leaderId !== null)) {
    if (performance.now() > deadline) throw new Error('no leader within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return servers;
}

const reply = (bytes: Uint8Array) => new RespReplyParser().push(bytes);

/**
 * Three servers and an executor on a follower whose session is open after `firstWrite`; from
 * then on, the first forwarded answer is lost on its way back. `dropped()` counts the losses.
 */
async function followerLosingOneAnswer(firstWrite: string[]) {
  const network = new InProcessNetwork();
  const started = await startServers(network);
  const follower = started.find(({ node }) => node.role !== 'leader')!;
  const executor = new RequestExecutor({
    node: follower.node,
    metrics: new KvMetrics(),
    policy: { writeAttemptTimeoutMs: 200, requestTimeoutMs: 20_000 },
  });
  // Opening the session takes one forward; the next answer is lost on the way.
  await executor.write([command(firstWrite)]);
  let dropped = 0;
  network.setInterceptor((message) => {
    if (message.type !== 'forward-result' || dropped > 0) return message;
    dropped++;
    return null;
  });
  const replayed = () =>
    started.find(({ node }) => node.role === 'leader')!.node.status().counters
      .sessionAnswersReplayed;
  return { started, follower, executor, dropped: () => dropped, replayed };
}

describe('KV writes through a session', () => {
  it('retries a write whose forwarded answer was lost, and INCR applies once', async () => {
    const { executor, dropped, replayed } = await followerLosingOneAnswer(['SET', 'other', 'x']);
    const first = reply(await executor.write([command(['INCR', 'counter'])]));
    expect(dropped()).toBe(1);
    // The attempt that timed out had been applied: the retry got its answer, not a second INCR.
    expect(first).toEqual([{ type: 'integer', value: 1n }]);
    const second = reply(await executor.write([command(['INCR', 'counter'])]));
    expect(second).toEqual([{ type: 'integer', value: 2n }]);
    expect(replayed()).toBe(1);
  });

  it('retries an EXEC whose forwarded answer was lost: applied once, answered with its own replies', async () => {
    const { started, follower, executor, dropped, replayed } = await followerLosingOneAnswer([
      'SET',
      'balance',
      '10',
    ]);
    const lookedAt = follower.machine.keyspace.index;
    // WATCH balance; MULTI; DECRBY balance 3; INCR transfers; EXEC. Applied a second time, it
    // would decrement twice, or abort on its own write of the WATCHed key.
    const exec = transaction(
      [
        ['DECRBY', 'balance', '3'],
        ['INCR', 'transfers'],
      ],
      [['balance', lookedAt]],
    );
    const replies = reply(await executor.write([exec]));
    expect(dropped()).toBe(1);
    expect(replies).toEqual([
      {
        type: 'array',
        value: [
          { type: 'integer', value: 7n },
          { type: 'integer', value: 1n },
        ],
      },
    ]);
    for (const { machine } of started) {
      await waitUntil(() => machine.keyspace.index >= follower.machine.keyspace.index);
      const query = { operations: [bytes(['GET', 'balance']), bytes(['GET', 'transfers'])] };
      expect(reply(machine.query(query))).toEqual([
        { type: 'bulk', value: Buffer.from('7') },
        { type: 'bulk', value: Buffer.from('1') },
      ]);
    }
    expect(replayed()).toBe(1);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not reached within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
