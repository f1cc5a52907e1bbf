import { describe, expect, it } from 'vitest';
import { integerReply, okReply } from '../resp/resp-writer.js';
import type { WriteOperation } from '../state/write-batch-codec.js';
import { WriteGatherer } from './write-gatherer.js';

const set = (key: string): WriteOperation => ({
  kind: 'command',
  args: [Buffer.from('SET'), Buffer.from(key), Buffer.from('v')],
});

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

/** A gatherer whose turns end when the test says, proposing to a recorder. */
function gathererWith(limits = { operationsMax: 1024, bytesMax: 900 * 1024 }) {
  const proposals: string[][] = [];
  let endTurn: (() => void) | null = null;
  let failWith: Error | null = null;
  const gatherer = new WriteGatherer({
    limits,
    defer: (run) => (endTurn = run),
    propose: (operations) => {
      proposals.push(
        operations.map((operation) =>
          operation.kind === 'command' ? operation.args[1]!.toString() : 'transaction',
        ),
      );
      if (failWith !== null) return Promise.reject(failWith);
      // One reply per operation: the position in the proposal, so each caller's share is known.
      return Promise.resolve(
        Buffer.concat(operations.map((_, position) => integerReply(position))),
      );
    },
  });
  return {
    gatherer,
    proposals,
    endTurn: () => {
      const run = endTurn;
      endTurn = null;
      run?.();
    },
    failNext: (error: Error) => (failWith = error),
  };
}

describe('WriteGatherer', () => {
  it('proposes the runs of one turn together and gives each its own replies', async () => {
    const { gatherer, proposals, endTurn } = gathererWith();
    // Connections reach the executor from separate I/O callbacks, each after its own microtasks.
    const first = gatherer.write([set('a'), set('b')]);
    await Promise.resolve();
    const second = gatherer.write([set('c')]);
    const third = gatherer.write([set('d'), set('e')]);
    expect(proposals).toEqual([]);
    endTurn();
    expect(proposals).toEqual([['a', 'b', 'c', 'd', 'e']]);
    expect((await Promise.all([first, second, third])).map(text)).toEqual([
      ':0\r\n:1\r\n',
      ':2\r\n',
      ':3\r\n:4\r\n',
    ]);
  });

  it('starts a new proposal in the next turn, and a lone run is proposed as it is', async () => {
    const { gatherer, proposals, endTurn } = gathererWith();
    const first = gatherer.write([set('a')]);
    endTurn();
    const second = gatherer.write([set('b')]);
    endTurn();
    expect(proposals).toEqual([['a'], ['b']]);
    expect((await Promise.all([first, second])).map(text)).toEqual([':0\r\n', ':0\r\n']);
  });

  it('keeps each proposal within the operation and byte limits', async () => {
    const { gatherer, proposals, endTurn } = gathererWith({
      operationsMax: 3,
      bytesMax: 900 * 1024,
    });
    const writes = [['a', 'b'], ['c'], ['d'], ['e', 'f', 'g', 'h']].map((keys) =>
      gatherer.write(keys.map(set)),
    );
    endTurn();
    // A run over the limit by itself still goes, alone.
    expect(proposals).toEqual([['a', 'b', 'c'], ['d'], ['e', 'f', 'g', 'h']]);
    await Promise.all(writes);
    // One of these SETs encodes to 22 bytes and a batch adds 13: two do not fit in 50.
    const bytesBound = gathererWith({ operationsMax: 1024, bytesMax: 50 });
    const small = [bytesBound.gatherer.write([set('a')]), bytesBound.gatherer.write([set('b')])];
    bytesBound.endTurn();
    expect(bytesBound.proposals).toEqual([['a'], ['b']]);
    await Promise.all(small);
  });

  it('fails every run of a proposal that failed', async () => {
    const { gatherer, endTurn, failNext } = gathererWith();
    failNext(new Error('no leader'));
    const writes = [gatherer.write([set('a')]), gatherer.write([set('b')])];
    endTurn();
    for (const write of writes) await expect(write).rejects.toThrow('no leader');
  });

  it('fails the runs, rather than answer them wrongly, when the replies do not match', async () => {
    const gatherer = new WriteGatherer({
      limits: { operationsMax: 1024, bytesMax: 900 * 1024 },
      defer: (run) => queueMicrotask(run),
      propose: () => Promise.resolve(okReply),
    });
    const writes = [gatherer.write([set('a')]), gatherer.write([set('b')])];
    for (const write of writes) await expect(write).rejects.toThrow('fewer replies');
  });
});
