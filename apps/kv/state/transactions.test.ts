import { describe, expect, it } from 'vitest';
import {
  KvHarness,
  array,
  bulk,
  error,
  integer,
  ok,
  transaction,
  wrongType,
} from './kv-harness.test-helpers.js';
import { tombstonesMax } from './keyspace.js';
import { KvStateMachine } from './kv-state-machine.js';
import { decodeWriteBatch, encodeWriteBatch } from './write-batch-codec.js';

const aborted = { type: 'array', value: null };

describe('MULTI … EXEC: a transaction is one operation of one log entry', () => {
  it('runs every command in order and answers them as one array', () => {
    const store = new KvHarness();
    expect(
      store.apply(
        1,
        transaction([
          ['SET', 'a', '1'],
          ['INCR', 'a'],
          ['GET', 'a'],
          ['SADD', 's', 'x'],
        ]),
      ),
    ).toEqual([array(ok, integer(2), bulk('2'), integer(1))]);
  });

  it('a command failing at run time answers its error and the others still run (as in Redis)', () => {
    const store = new KvHarness();
    store.write(1, ['SET', 'text', 'hello'], ['HSET', 'h', 'f', 'v']);
    expect(
      store.apply(
        2,
        transaction([
          ['INCR', 'text'],
          ['SET', 'after', 'yes'],
          ['GET', 'h'],
          ['INCR', 'n'],
        ]),
      ),
    ).toEqual([
      array(error('ERR value is not an integer or out of range'), ok, wrongType, integer(1)),
    ]);
    expect(store.read(['GET', 'after'], ['GET', 'n'])).toEqual([bulk('yes'), bulk('1')]);
  });

  it('checks arguments at run time, as Redis does: a syntax error is that command’s entry only', () => {
    const store = new KvHarness();
    expect(
      store.apply(
        1,
        transaction([
          ['SET', 'a', '1', 'EX', 'soon'],
          ['SET', 'b', '1', 'NX', 'XX'],
          ['INCRBY', 'n', 'x'],
          ['EXPIRE', 'n', '10', 'SOMETIMES'],
          ['SET', 'after', 'yes'],
        ]),
      ),
    ).toEqual([
      array(
        error('ERR value is not an integer or out of range'),
        error('ERR syntax error'),
        error('ERR value is not an integer or out of range'),
        error('ERR Unsupported option SOMETIMES'),
        ok,
      ),
    ]);
    expect(store.read(['EXISTS', 'a', 'b', 'n'], ['GET', 'after'])).toEqual([
      integer(0),
      bulk('yes'),
    ]);
  });

  it('answers the connection commands Redis lets a client queue (PING, ECHO, SELECT, UNWATCH) in place', () => {
    const store = new KvHarness();
    expect(
      store.apply(
        1,
        transaction([
          ['PING'],
          ['SET', 'k', 'v'],
          ['ECHO', 'hi'],
          ['SELECT', '0'],
          ['SELECT', '1'],
          ['UNWATCH'],
          ['PING', 'a', 'b'],
        ]),
      ),
    ).toEqual([
      array(
        { type: 'simple', value: 'PONG' },
        ok,
        bulk('hi'),
        ok,
        error('ERR DB index is out of range'),
        ok,
        error("ERR wrong number of arguments for 'ping' command"),
      ),
    ]);
  });

  it('runs when no WATCHed key changed after the index the client looked at', () => {
    const store = new KvHarness();
    store.write(1, ['SET', 'balance', '10']);
    const lookedAt = store.machine.keyspace.index;
    store.write(2, ['SET', 'unrelated', 'x']);
    expect(
      store.apply(
        3,
        transaction(
          [['DECRBY', 'balance', '3']],
          [
            ['balance', lookedAt],
            ['missing', lookedAt],
          ],
        ),
      ),
    ).toEqual([array(integer(7))]);
  });

  it.each([
    ['written', ['SET', 'k', 'other']],
    ['deleted', ['DEL', 'k']],
    ['given an expiry', ['EXPIRE', 'k', '100']],
    ['renamed away', ['RENAME', 'k', 'k2']],
    ['flushed', ['FLUSHALL']],
  ])(
    'aborts with a null array, changing nothing, when a WATCHed key was %s after',
    (_how, change) => {
      const store = new KvHarness();
      store.write(1, ['SET', 'k', 'v']);
      const lookedAt = store.machine.keyspace.index;
      store.write(2, change);
      expect(store.apply(3, transaction([['SET', 'witness', '1']], [['k', lookedAt]]))).toEqual([
        aborted,
      ]);
      expect(store.read(['EXISTS', 'witness'])).toEqual([integer(0)]);
    },
  );

  it('aborts when a WATCHed key that did not exist was created, or created and deleted again', () => {
    const store = new KvHarness();
    const lookedAt = store.machine.keyspace.index;
    store.write(1, ['SET', 'ghost', '1'], ['DEL', 'ghost']);
    expect(store.apply(2, transaction([['SET', 'w', '1']], [['ghost', lookedAt]]))).toEqual([
      aborted,
    ]);
  });

  it('aborts when a WATCHed key expired after the client looked (expiry is a write of the log)', () => {
    const store = new KvHarness();
    store.write(1000, ['SET', 'session', 'x', 'PX', '100']);
    const lookedAt = store.machine.keyspace.index;
    // This entry's time passes the deadline: the key expires as part of it, before its commands.
    expect(store.apply(1200, transaction([['SET', 'w', '1']], [['session', lookedAt]]))).toEqual([
      aborted,
    ]);
  });

  it('a command that changed nothing (a failed SET NX) does not count as a change', () => {
    const store = new KvHarness();
    store.write(1, ['SET', 'k', 'v']);
    const lookedAt = store.machine.keyspace.index;
    store.write(2, ['SET', 'k', 'x', 'NX'], ['HSET', 'k', 'f', 'v']);
    expect(store.apply(3, transaction([['GET', 'k']], [['k', lookedAt]]))).toEqual([
      array(bulk('v')),
    ]);
  });

  it('once a deletion is forgotten, an absent WATCHed key aborts rather than risk a missed change', () => {
    const store = new KvHarness();
    const lookedAt = store.machine.keyspace.index;
    store.write(1, ['SET', 'victim', '1'], ['DEL', 'victim']);
    const keys = Array.from({ length: tombstonesMax }, (_, n) => `filler${n}`);
    store.write(2, ['MSET', ...keys.flatMap((key) => [key, '1'])]);
    store.write(3, ['DEL', ...keys]);
    expect(store.apply(4, transaction([['SET', 'w', '1']], [['victim', lookedAt]]))).toEqual([
      aborted,
    ]);
    // A key that never existed, looked at after the forgotten deletions, is still fine.
    const later = store.machine.keyspace.index;
    expect(store.apply(5, transaction([['SET', 'w', '1']], [['never', later]]))).toEqual([
      array(ok),
    ]);
  });

  it('every replica reaches the same verdict and the same state', () => {
    const entries = [
      encodeWriteBatch({ timeMs: 1, operations: [transaction([['SET', 'a', '1']])] }),
      encodeWriteBatch({ timeMs: 2, operations: [transaction([['INCR', 'a']], [['a', 0]])] }),
      encodeWriteBatch({ timeMs: 3, operations: [transaction([['INCR', 'a']], [['a', 1]])] }),
    ];
    const results = [new KvStateMachine(), new KvStateMachine()].map((replica) =>
      entries.map((entry, position) =>
        Buffer.from(replica.apply(entry, { index: position + 1, term: 1 })).toString(),
      ),
    );
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toEqual(['*1\r\n+OK\r\n', '*-1\r\n', '*1\r\n:2\r\n']);
  });

  it('the codec carries transactions beside plain commands and rejects an unknown tag', () => {
    const operations = [
      { kind: 'command' as const, args: [Buffer.from('SET'), Buffer.from('k'), Buffer.from('v')] },
      transaction(
        [
          ['INCR', 'n'],
          ['GET', 'k'],
        ],
        [['k', 41]],
      ),
    ];
    const encoded = encodeWriteBatch({ timeMs: 5, operations });
    expect(encoded[0]).toBe(2);
    const decoded = decodeWriteBatch(encoded);
    expect(decoded.operations).toEqual(operations);
    const damaged = Buffer.from(encoded);
    damaged[13] = 9;
    expect(() => decodeWriteBatch(damaged)).toThrow(/unknown operation tag/);
  });
});

describe('Keyspace image (what a snapshot carries)', () => {
  it('a keyspace restored from an image reaches the same WATCH and expiry verdicts', () => {
    const original = new KvHarness();
    original.write(
      1000,
      ['SET', 'k', 'v', 'PX', '500'],
      ['HSET', 'h', 'f', '1'],
      ['SET', 'gone', '1'],
    );
    original.write(1001, ['DEL', 'gone'], ['SADD', 's', 'a', 'b']);
    const restored = new KvHarness(original.machine.keyspace.index);
    restored.machine.keyspace.restore(original.machine.keyspace.image());
    for (const store of [original, restored]) store.write(1002, ['SET', 'pad', 'x']);
    const entries = [
      transaction([['SET', 'w1', '1']], [['gone', 1]]),
      transaction([['HINCRBY', 'h', 'f', '1']], [['h', 2]]),
    ];
    const replies = [original, restored].map((store) => store.apply(1600, ...entries));
    expect(replies[0]).toEqual([aborted, array(integer(2))]);
    expect(replies[1]).toEqual(replies[0]);
    for (const store of [original, restored]) {
      expect(store.read(['EXISTS', 'k'], ['SCARD', 's'], ['DBSIZE'])).toEqual([
        integer(0),
        integer(2),
        integer(3),
      ]);
      expect(store.machine.expiringKeys).toBe(0);
    }
  });
});
