import { describe, expect, it } from 'vitest';
import { RaftError } from '../core/index.js';
import { formatAddress, parseAddress, samePeers } from './discovery.js';
import { StaticDiscovery } from './static-discovery.js';

describe('parseAddress', () => {
  it('parses host:port and bracketed IPv6', () => {
    expect(parseAddress('db-1.internal:7000')).toEqual({ host: 'db-1.internal', port: 7000 });
    expect(parseAddress('[::1]:7000')).toEqual({ host: '::1', port: 7000 });
    expect(parseAddress('tcp://10.0.0.1:7000')).toEqual({ host: '10.0.0.1', port: 7000 });
    expect(formatAddress({ host: '::1', port: 7000 })).toBe('[::1]:7000');
    expect(formatAddress({ host: '10.0.0.1', port: 1 })).toBe('10.0.0.1:1');
  });

  it('rejects malformed addresses and port 0 unless asked', () => {
    for (const bad of ['host', ':7000', 'host:', 'host:70000', '::1:7000', 'host:0', 'a:b']) {
      expect(() => parseAddress(bad)).toThrow(RaftError);
    }
    expect(parseAddress('127.0.0.1:0', { allowAnyPort: true }).port).toBe(0);
  });
});

describe('StaticDiscovery', () => {
  it('resolves known ids and returns null for others', async () => {
    const discovery = new StaticDiscovery({
      a: '10.0.0.1:7000',
      b: { host: '10.0.0.2', port: 7001 },
    });
    expect(await discovery.resolve('b')).toEqual({ host: '10.0.0.2', port: 7001 });
    expect(await discovery.resolve('z')).toBeNull();
    expect([...discovery.peers().keys()]).toEqual(['a', 'b']);
  });

  it('notifies subscribers of real changes only, until they unsubscribe', () => {
    const discovery = new StaticDiscovery({ a: '10.0.0.1:7000' });
    const seen: number[] = [];
    const unsubscribe = discovery.subscribe((peers) => seen.push(peers.size));
    discovery.set('a', '10.0.0.1:7000');
    discovery.set('b', '10.0.0.2:7000');
    discovery.set('a', '10.0.0.9:7000');
    discovery.delete('b');
    discovery.delete('b');
    unsubscribe();
    discovery.set('c', '10.0.0.3:7000');
    expect(seen).toEqual([2, 2, 1]);
  });

  it('compares peer lists by content', () => {
    const one = new StaticDiscovery({ a: 'h:1' }).peers();
    expect(samePeers(one, new StaticDiscovery({ a: 'h:1' }).peers())).toBe(true);
    expect(samePeers(one, new StaticDiscovery({ a: 'h:2' }).peers())).toBe(false);
    expect(samePeers(one, new StaticDiscovery({ b: 'h:1' }).peers())).toBe(false);
  });
});
