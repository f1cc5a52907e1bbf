import { describe, expect, it } from 'vitest';
import type { RespValue } from '../resp/resp-reply-parser.js';
import { GlobPattern } from './glob.js';
import {
  KvHarness,
  array,
  bulk,
  error,
  integer,
  nil,
  ok,
  wrongType,
} from './kv-harness.test-helpers.js';
import { checkDataCommand } from './kv-commands.js';
import { ScanIndex } from './scan-index.js';

const status = (value: string): RespValue => ({ type: 'simple', value });
const sorted = (reply: RespValue | undefined): string[] =>
  reply?.type === 'array' && reply.value !== null
    ? reply.value.map((item) => (item.type === 'bulk' ? String(item.value) : '?')).sort()
    : [];

describe('strings', () => {
  it('SETNX, SETEX, PSETEX, GETSET, GETDEL, STRLEN, SET … GET and KEEPTTL', () => {
    const store = new KvHarness();
    expect(store.write(1000, ['SETNX', 'a', '1'], ['SETNX', 'a', '2'])).toEqual([
      integer(1),
      integer(0),
    ]);
    expect(store.write(1000, ['SETEX', 'b', '10', 'x'], ['PSETEX', 'c', '500', 'y'])).toEqual([
      ok,
      ok,
    ]);
    expect(store.read(['TTL', 'b'], ['PTTL', 'c'])).toEqual([integer(10), integer(500)]);
    expect(store.write(1000, ['GETSET', 'a', 'new'], ['GETDEL', 'a'], ['GETDEL', 'a'])).toEqual([
      bulk('1'),
      bulk('new'),
      nil,
    ]);
    expect(store.write(1000, ['SET', 'b', 'kept', 'KEEPTTL', 'GET'])).toEqual([bulk('x')]);
    expect(store.read(['TTL', 'b'], ['STRLEN', 'b'], ['STRLEN', 'none'])).toEqual([
      integer(10),
      integer(4),
      integer(0),
    ]);
    expect(
      store.write(1000, ['MSETNX', 'b', '1', 'z', '2'], ['MSETNX', 'y', '1', 'z', '2']),
    ).toEqual([integer(0), integer(1)]);
  });

  it('answers WRONGTYPE for string commands on a hash or set, and MGET answers nil', () => {
    const store = new KvHarness();
    store.write(1, ['HSET', 'h', 'f', 'v'], ['SADD', 's', 'm']);
    expect(
      store.write(2, ['INCR', 'h'], ['APPEND', 's', 'x'], ['GETSET', 'h', 'x'], ['GETDEL', 's']),
    ).toEqual([wrongType, wrongType, wrongType, wrongType]);
    expect(store.read(['GET', 'h'], ['STRLEN', 's'], ['MGET', 'h', 's'])).toEqual([
      wrongType,
      wrongType,
      array(nil, nil),
    ]);
    // SET replaces a value of any type, as in Redis.
    expect(store.write(3, ['SET', 'h', 'plain'])).toEqual([ok]);
    expect(store.read(['TYPE', 'h'], ['TYPE', 's'], ['TYPE', 'none'])).toEqual([
      status('string'),
      status('set'),
      status('none'),
    ]);
  });
});

describe('expiry of existing keys, judged by replicated time', () => {
  it('EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST and the NX/XX/GT/LT conditions', () => {
    const store = new KvHarness();
    store.write(10_000, ['SET', 'k', 'v'], ['SET', 'j', 'v']);
    expect(
      store.write(
        10_000,
        ['EXPIRE', 'k', '100', 'XX'],
        ['EXPIRE', 'k', '100', 'NX'],
        ['PEXPIRE', 'k', '50000', 'GT'],
        ['PEXPIRE', 'k', '200000', 'GT'],
        ['EXPIRE', 'k', '300', 'LT'],
        ['EXPIRE', 'missing', '10'],
      ),
    ).toEqual([integer(0), integer(1), integer(0), integer(1), integer(0), integer(0)]);
    expect(store.read(['PTTL', 'k'])).toEqual([integer(200_000)]);
    expect(store.write(10_000, ['PERSIST', 'k'], ['PERSIST', 'k'])).toEqual([
      integer(1),
      integer(0),
    ]);
    expect(store.read(['TTL', 'k'])).toEqual([integer(-1)]);
    // Absolute deadlines: 12 s and 10.5 s after the epoch, in replicated time.
    expect(store.write(10_000, ['EXPIREAT', 'k', '12'], ['PEXPIREAT', 'j', '10500'])).toEqual([
      integer(1),
      integer(1),
    ]);
    store.write(11_000);
    expect(store.read(['EXISTS', 'k', 'j'])).toEqual([integer(1)]);
    store.write(12_000);
    expect(store.read(['EXISTS', 'k', 'j'], ['DBSIZE'])).toEqual([integer(0), integer(0)]);
  });

  it('a deadline already reached (EXPIRE 0, EXPIREAT in the past) deletes the key at once', () => {
    const store = new KvHarness();
    store.write(5000, ['SET', 'a', '1'], ['SET', 'b', '1'], ['SET', 'c', '1']);
    expect(
      store.write(5000, ['EXPIRE', 'a', '0'], ['EXPIREAT', 'b', '1'], ['PEXPIRE', 'c', '-5']),
    ).toEqual([integer(1), integer(1), integer(1)]);
    expect(store.read(['DBSIZE'])).toEqual([integer(0)]);
    expect(store.machine.expiringKeys).toBe(0);
  });

  it('rejects bad arguments before proposing', () => {
    expect(
      checkDataCommand('EXPIRE', [Buffer.from('EXPIRE'), Buffer.from('k'), Buffer.from('x')]),
    ).toBe('ERR value is not an integer or out of range');
    const store = new KvHarness();
    store.write(1, ['SET', 'k', 'v']);
    expect(store.write(1, ['EXPIRE', 'k', '5', 'NX', 'XX'], ['EXPIRE', 'k', '5', 'SOON'])).toEqual([
      error('ERR NX and XX, GT or LT options at the same time are not compatible'),
      error('ERR Unsupported option SOON'),
    ]);
  });
});

describe('renaming and flushing', () => {
  it('RENAME moves value and expiry; RENAMENX refuses to overwrite; a missing source is an error', () => {
    const store = new KvHarness();
    store.write(0, ['SET', 'a', '1', 'PX', '1000'], ['SADD', 'b', 'x']);
    expect(
      store.write(
        0,
        ['RENAME', 'a', 'c'],
        ['RENAMENX', 'c', 'b'],
        ['RENAMENX', 'b', 'd'],
        ['RENAME', 'zz', 'y'],
      ),
    ).toEqual([ok, integer(0), integer(1), error('ERR no such key')]);
    expect(
      store.read(['GET', 'c'], ['PTTL', 'c'], ['SMEMBERS', 'd'], ['EXISTS', 'a', 'b']),
    ).toEqual([bulk('1'), integer(1000), array(bulk('x')), integer(0)]);
    expect(store.write(0, ['FLUSHDB'], ['FLUSHALL', 'ASYNC'], ['FLUSHALL', 'LATER'])).toEqual([
      ok,
      ok,
      error('ERR syntax error'),
    ]);
    expect(store.read(['DBSIZE'])).toEqual([integer(0)]);
    expect(store.machine.expiringKeys).toBe(0);
  });
});

describe('hashes', () => {
  it('HSET, HGET, HMGET, HGETALL, HDEL, HINCRBY, HEXISTS, HLEN, HKEYS, HVALS, HSETNX, HSTRLEN', () => {
    const store = new KvHarness();
    expect(
      store.write(1, ['HSET', 'h', 'a', '1', 'b', '2'], ['HSET', 'h', 'a', '3', 'c', '4']),
    ).toEqual([integer(2), integer(1)]);
    expect(
      store.write(
        1,
        ['HSETNX', 'h', 'a', 'x'],
        ['HSETNX', 'h', 'd', 'x'],
        ['HMSET', 'h', 'e', '5'],
        ['HINCRBY', 'h', 'b', '40'],
      ),
    ).toEqual([integer(0), integer(1), ok, integer(42)]);
    expect(
      store.read(
        ['HGET', 'h', 'a'],
        ['HGET', 'h', 'zz'],
        ['HMGET', 'h', 'b', 'zz'],
        ['HEXISTS', 'h', 'c'],
        ['HLEN', 'h'],
        ['HSTRLEN', 'h', 'b'],
        ['HGET', 'none', 'a'],
      ),
    ).toEqual([bulk('3'), nil, array(bulk('42'), nil), integer(1), integer(5), integer(2), nil]);
    const [all, keys, values] = store.read(['HGETALL', 'h'], ['HKEYS', 'h'], ['HVALS', 'h']);
    expect(sorted(all)).toEqual(['3', '4', '42', '5', 'a', 'b', 'c', 'd', 'e', 'x']);
    expect(sorted(keys)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(sorted(values)).toEqual(['3', '4', '42', '5', 'x']);
    expect(store.write(1, ['HDEL', 'h', 'a', 'a', 'zz'], ['HINCRBY', 'h', 'd', '1'])).toEqual([
      integer(1),
      error('ERR hash value is not an integer'),
    ]);
    // Removing the last field removes the key.
    expect(store.write(1, ['HDEL', 'h', 'b', 'c', 'd', 'e'])).toEqual([integer(4)]);
    expect(store.read(['EXISTS', 'h'], ['HGETALL', 'h'])).toEqual([integer(0), array()]);
  });

  it('answers WRONGTYPE on a string and checks arity of field/value pairs before proposing', () => {
    const store = new KvHarness();
    store.write(1, ['SET', 's', 'v']);
    expect(store.write(1, ['HSET', 's', 'f', 'v'], ['HDEL', 's', 'f'])).toEqual([
      wrongType,
      wrongType,
    ]);
    expect(store.read(['HGETALL', 's'], ['HLEN', 's'])).toEqual([wrongType, wrongType]);
    expect(
      checkDataCommand('HSET', [
        Buffer.from('HSET'),
        Buffer.from('h'),
        Buffer.from('f'),
        Buffer.from('v'),
        Buffer.from('g'),
      ]),
    ).toBe("ERR wrong number of arguments for 'hset' command");
  });
});

describe('sets', () => {
  it('SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD; the last SREM removes the key', () => {
    const store = new KvHarness();
    expect(store.write(1, ['SADD', 's', 'a', 'b', 'a'], ['SADD', 's', 'b', 'c'])).toEqual([
      integer(2),
      integer(1),
    ]);
    const [members, ...rest] = store.read(
      ['SMEMBERS', 's'],
      ['SISMEMBER', 's', 'a'],
      ['SISMEMBER', 's', 'z'],
      ['SMISMEMBER', 's', 'c', 'z'],
      ['SCARD', 's'],
      ['SCARD', 'none'],
    );
    expect(sorted(members)).toEqual(['a', 'b', 'c']);
    expect(rest).toEqual([
      integer(1),
      integer(0),
      array(integer(1), integer(0)),
      integer(3),
      integer(0),
    ]);
    expect(
      store.write(1, ['SREM', 's', 'a', 'z'], ['SREM', 's', 'b', 'c'], ['SADD', 'str', 'x']),
    ).toEqual([integer(1), integer(2), integer(1)]);
    expect(store.read(['EXISTS', 's'])).toEqual([integer(0)]);
    store.write(1, ['SET', 'plain', 'v']);
    expect(store.write(1, ['SADD', 'plain', 'x'])).toEqual([wrongType]);
    expect(store.read(['SMEMBERS', 'plain'], ['SISMEMBER', 'plain', 'x'])).toEqual([
      wrongType,
      wrongType,
    ]);
  });
});

describe('HSCAN and SSCAN', () => {
  it('answer the whole hash or set with cursor 0, filtered by MATCH; WRONGTYPE and bad options as Redis', () => {
    const store = new KvHarness();
    store.write(
      1,
      ['HSET', 'h', 'name', 'ada', 'nick', 'a', 'age', '36'],
      ['SADD', 's', 'red', 'rose', 'blue'],
      ['SET', 'plain', 'v'],
    );
    const [hash, hashMatched, set, setMatched, empty] = store.read(
      ['HSCAN', 'h', '0'],
      ['HSCAN', 'h', '0', 'MATCH', 'n*', 'COUNT', '1'],
      ['SSCAN', 's', '0', 'COUNT', '100'],
      ['SSCAN', 's', '0', 'MATCH', 'r*'],
      ['SSCAN', 'none', '0'],
    );
    expect(hash).toEqual(
      array(
        bulk('0'),
        array(bulk('name'), bulk('ada'), bulk('nick'), bulk('a'), bulk('age'), bulk('36')),
      ),
    );
    expect(hashMatched).toEqual(
      array(bulk('0'), array(bulk('name'), bulk('ada'), bulk('nick'), bulk('a'))),
    );
    expect(set?.type === 'array' && set.value?.[0]).toEqual(bulk('0'));
    expect(sorted(set?.type === 'array' ? set.value?.[1] : undefined)).toEqual([
      'blue',
      'red',
      'rose',
    ]);
    expect(sorted(setMatched?.type === 'array' ? setMatched.value?.[1] : undefined)).toEqual([
      'red',
      'rose',
    ]);
    expect(empty).toEqual(array(bulk('0'), array()));
    expect(
      store.read(
        ['HSCAN', 'plain', '0'],
        ['SSCAN', 'h', '0'],
        ['HSCAN', 'h', 'x'],
        ['SSCAN', 's', '0', 'COUNT', '0'],
        ['SSCAN', 's', '0', 'TYPE', 'set'],
        ['HSCAN', 'h', '0', 'MATCH'],
      ),
    ).toEqual([
      wrongType,
      wrongType,
      error('ERR invalid cursor'),
      error('ERR syntax error'),
      error('ERR syntax error'),
      error('ERR syntax error'),
    ]);
  });
});

describe('KEYS and SCAN', () => {
  it('KEYS matches Redis glob patterns', () => {
    const store = new KvHarness();
    store.write(1, ['MSET', 'user:1', 'a', 'user:22', 'b', 'order:1', 'c', 'u[x]', 'd']);
    expect(sorted(store.read(['KEYS', '*'])[0])).toEqual(['order:1', 'u[x]', 'user:1', 'user:22']);
    expect(sorted(store.read(['KEYS', 'user:?'])[0])).toEqual(['user:1']);
    expect(sorted(store.read(['KEYS', '[ou]*:1'])[0])).toEqual(['order:1', 'user:1']);
    expect(sorted(store.read(['KEYS', 'u\\[x\\]'])[0])).toEqual(['u[x]']);
    expect(sorted(store.read(['KEYS', '[^u]*'])[0])).toEqual(['order:1']);
  });

  it('a full SCAN walk returns every key present throughout, even while keys come and go', () => {
    const store = new KvHarness();
    const keys = Array.from({ length: 500 }, (_, n) => `key:${n}`);
    store.write(1, ['MSET', ...keys.flatMap((key) => [key, 'v'])], ['HSET', 'hash', 'f', 'v']);
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [reply] = store.read(['SCAN', cursor, 'MATCH', 'key:*', 'COUNT', '20']);
      if (reply?.type !== 'array' || reply.value === null) throw new Error('bad reply');
      const [next, found] = reply.value;
      cursor = next?.type === 'bulk' ? String(next.value) : 'bad';
      for (const key of sorted(found)) seen.add(key);
      // Churn between calls: the table grows and shrinks under the cursor.
      store.write(1, ['MSET', `churn:${calls}a`, 'x', `churn:${calls}b`, 'x']);
      if (calls % 3 === 0) store.write(1, ['DEL', `churn:${calls - 3}a`, `churn:${calls - 3}b`]);
      calls++;
    } while (cursor !== '0' && calls < 10_000);
    expect(cursor).toBe('0');
    expect([...seen].sort()).toEqual([...keys].sort());
    expect(calls).toBeLessThan(200);
    const [typed] = store.read(['SCAN', '0', 'TYPE', 'hash', 'COUNT', '1000']);
    expect(typed).toEqual(array(bulk('0'), array(bulk('hash'))));
    expect(store.read(['SCAN', 'x'], ['SCAN', '0', 'COUNT', '0'])).toEqual([
      error('ERR invalid cursor'),
      error('ERR syntax error'),
    ]);
  });

  it('one SCAN call visits a bounded number of buckets, however sparse the table', () => {
    const index = new ScanIndex();
    for (let n = 0; n < 20_000; n++) index.add(`k${n}`);
    for (let n = 0; n < 20_000; n++) if (n % 200 !== 0) index.delete(`k${n}`);
    expect(index.size).toBe(100);
    const step = index.scan(0, 10, 5);
    expect(step.keys.length).toBeLessThanOrEqual(5 * 2 * 8);
    expect(step.cursor).not.toBe(0);
  });

  it('glob patterns cost pattern × text at worst, not exponential time', () => {
    const pattern = new GlobPattern('*a*a*a*a*a*a*a*a*a*a*b');
    expect(pattern.matches('a'.repeat(5000))).toBe(false);
    expect(new GlobPattern('[a-c]?x').matches('bzx')).toBe(true);
    expect(new GlobPattern('[c-a]x').matches('bx')).toBe(true);
  });
});
