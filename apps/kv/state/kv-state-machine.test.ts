import { describe, expect, it } from 'vitest';
import { RespReplyParser } from '../resp/resp-reply-parser.js';
import { checkDataCommand } from './kv-commands.js';
import {
  KvHarness as Harness,
  bulk,
  bytes,
  command,
  integer,
  nil,
  ok,
} from './kv-harness.test-helpers.js';
import { KvStateMachine } from './kv-state-machine.js';
import { decodeWriteBatch, encodeWriteBatch } from './write-batch-codec.js';

describe('KvStateMachine', () => {
  it('answers a batch with one reply per operation, in order', () => {
    const store = new Harness();
    expect(
      store.write(1000, ['SET', 'a', '1'], ['INCR', 'a'], ['APPEND', 'a', 'x'], ['DEL', 'a', 'b']),
    ).toEqual([ok, integer(2), integer(2), integer(1)]);
    expect(store.read(['GET', 'a'], ['EXISTS', 'a', 'a'], ['DBSIZE'])).toEqual([
      nil,
      integer(0),
      integer(0),
    ]);
  });

  it('SET NX only creates, SET XX only replaces', () => {
    const store = new Harness();
    expect(store.write(1, ['SET', 'k', 'v1', 'XX'])).toEqual([nil]);
    expect(store.write(2, ['SET', 'k', 'v1', 'NX'])).toEqual([ok]);
    expect(store.write(3, ['SET', 'k', 'v2', 'NX'])).toEqual([nil]);
    expect(store.write(4, ['SET', 'k', 'v3', 'XX'])).toEqual([ok]);
    expect(store.read(['GET', 'k'])).toEqual([bulk('v3')]);
  });

  it('INCR on a value that is not an integer is an error and changes nothing', () => {
    const store = new Harness();
    store.write(1, ['SET', 'text', 'hello'], ['SET', 'big', '9223372036854775807']);
    const notInteger = { type: 'error', message: 'ERR value is not an integer or out of range' };
    expect(store.write(2, ['INCR', 'text'], ['INCRBY', 'text', '5'])).toEqual([
      notInteger,
      notInteger,
    ]);
    expect(store.write(3, ['INCR', 'big'])).toEqual([
      { type: 'error', message: 'ERR increment or decrement would overflow' },
    ]);
    expect(store.write(4, ['DECRBY', 'fresh', '3'], ['INCR', 'fresh'])).toEqual([
      integer(-3),
      integer(-2),
    ]);
    expect(store.read(['MGET', 'text', 'big', 'missing'])).toEqual([
      { type: 'array', value: [bulk('hello'), bulk('9223372036854775807'), nil] },
    ]);
  });

  it('expires keys by the replicated time carried in the log, not by any local clock', () => {
    const store = new Harness();
    store.write(10_000, ['SET', 'session', 'x', 'EX', '5'], ['SET', 'fast', 'y', 'PX', '100']);
    expect(store.read(['PTTL', 'session'], ['TTL', 'session'])).toEqual([
      integer(5000),
      integer(5),
    ]);
    // An entry stamped 99 ms later: nothing has expired yet.
    store.write(10_099, ['SET', 'other', 'z']);
    expect(store.read(['GET', 'fast'])).toEqual([bulk('y')]);
    // A proposer with a slow clock cannot move time back.
    store.write(5_000, ['SET', 'other', 'z2']);
    expect(store.machine.replicatedTimeMs).toBe(10_099);
    expect(store.read(['GET', 'fast'])).toEqual([bulk('y')]);
    // An empty batch (a leader's clock entry) carries time forward by itself.
    store.write(10_100);
    expect(store.read(['GET', 'fast'], ['EXISTS', 'fast'], ['DBSIZE'])).toEqual([
      nil,
      integer(0),
      integer(2),
    ]);
    store.write(15_000);
    expect(store.read(['GET', 'session'], ['TTL', 'session'], ['DBSIZE'])).toEqual([
      nil,
      integer(-2),
      integer(1),
    ]);
    expect(store.machine.expiringKeys).toBe(0);
  });

  it('replicas that apply the same entries agree, whatever their own clocks say', () => {
    const entries = [
      encodeWriteBatch({ timeMs: 1000, operations: [command(['SET', 'a', '1', 'PX', '50'])] }),
      encodeWriteBatch({ timeMs: 1040, operations: [command(['SET', 'b', '2', 'PX', '10'])] }),
      encodeWriteBatch({ timeMs: 1060, operations: [command(['INCR', 'c'])] }),
    ];
    const replicas = [new KvStateMachine(), new KvStateMachine()];
    for (const replica of replicas) {
      entries.forEach((entry, position) => replica.apply(entry, { index: position + 1, term: 1 }));
    }
    const query = { operations: [bytes(['MGET', 'a', 'b', 'c']), bytes(['DBSIZE'])] };
    expect(Buffer.from(replicas[0]!.query(query))).toEqual(Buffer.from(replicas[1]!.query(query)));
    expect(new RespReplyParser().push(replicas[0]!.query(query))).toEqual([
      { type: 'array', value: [nil, nil, bulk('1')] },
      integer(1),
    ]);
  });

  it('SET without expiry clears an earlier one; INCR keeps it', () => {
    const store = new Harness();
    store.write(0, ['SET', 'a', '1', 'PX', '100'], ['SET', 'b', '1', 'PX', '100']);
    store.write(1, ['SET', 'a', '2'], ['INCR', 'b']);
    expect(store.read(['PTTL', 'a'], ['PTTL', 'b'])).toEqual([integer(-1), integer(99)]);
    store.write(200);
    expect(store.read(['GET', 'a'], ['GET', 'b'])).toEqual([bulk('2'), nil]);
  });
});

describe('data command checks (before anything is proposed)', () => {
  it.each([
    [['GET'], "ERR wrong number of arguments for 'get' command"],
    [['SET', 'k'], "ERR wrong number of arguments for 'set' command"],
    [['SET', 'k', 'v', 'EX', '0'], "ERR invalid expire time in 'set' command"],
    [['SET', 'k', 'v', 'EX', 'soon'], 'ERR value is not an integer or out of range'],
    [['SET', 'k', 'v', 'NX', 'XX'], 'ERR syntax error'],
    [['SET', 'k', 'v', 'PX'], 'ERR syntax error'],
    [['INCRBY', 'k', '1.5'], 'ERR value is not an integer or out of range'],
    [['MSET', 'a', '1', 'b'], "ERR wrong number of arguments for 'mset' command"],
  ])('%j → %s', (args, message) => {
    expect(checkDataCommand(args[0]!, bytes(args))).toBe(message);
  });

  it('accepts well-formed commands', () => {
    expect(checkDataCommand('SET', bytes(['SET', 'k', 'v', 'xx', 'px', '10']))).toBeNull();
    expect(checkDataCommand('MSET', bytes(['MSET', 'a', '1', 'b', '2']))).toBeNull();
  });
});

describe('write batch codec', () => {
  it('round-trips binary arguments and rejects damaged entries', () => {
    const args = [Buffer.from('SET'), Buffer.from([0, 1, 2]), Buffer.alloc(0)];
    const encoded = encodeWriteBatch({ timeMs: 123.5, operations: [{ kind: 'command', args }] });
    // Without a transaction the batch keeps the first layout, which older servers read.
    expect(encoded[0]).toBe(1);
    const decoded = decodeWriteBatch(encoded);
    expect(decoded.timeMs).toBe(123.5);
    expect(decoded.operations).toEqual([{ kind: 'command', args }]);
    expect(() => decodeWriteBatch(encoded.subarray(0, encoded.length - 1))).toThrow(/truncated/);
    expect(() => decodeWriteBatch(Buffer.concat([encoded, Buffer.from([0])]))).toThrow(/trailing/);
  });
});
