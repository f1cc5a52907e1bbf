import { describe, expect, it } from 'vitest';
import { FlagError, readFlags, serverConfig } from './server-flags.js';

const members = ['--id', 'kv-0', '--dir', '/tmp/unused', '--members', 'kv-0,kv-1,kv-2'];
const secret = 'a-secret-of-enough-length';

describe('server flags', () => {
  it('reads any flag from the environment, and the command line wins', () => {
    const values = readFlags(['--raft-port', '7100'], {
      RAFTKIT_ID: 'kv-1',
      RAFTKIT_DIR: '/data',
      RAFTKIT_MEMBERS: 'kv-0,kv-1',
      RAFTKIT_RAFT_PORT: '7200',
      RAFTKIT_SECRET: secret,
      RAFTKIT_HOST_TEMPLATE: '{id}.kv.internal',
    });
    const config = serverConfig(values);
    expect(config.id).toBe('kv-1');
    expect(config.layout.members[0]!.raft).toBe('kv-0.kv.internal:7100');
    // Advertised names, bound everywhere.
    expect(config.bind.raft).toBe('0.0.0.0:7100');
  });

  it('binds apart from what it advertises', () => {
    const config = serverConfig(
      readFlags(
        [
          ...members,
          '--secret',
          secret,
          '--bind-host',
          '10.0.0.5',
          '--http-bind',
          '127.0.0.1:9090',
        ],
        {},
      ),
    );
    expect(config.layout.members[0]!.client).toBe('kv-0:6379');
    expect(config.bind).toEqual({
      raft: '10.0.0.5:7000',
      client: '10.0.0.5:6379',
      http: '127.0.0.1:9090',
    });
  });

  it('sets the snapshot policy, with the library defaults when absent', () => {
    const loopback = [...members, '--bind-host', '127.0.0.1'];
    expect(serverConfig(readFlags(loopback, {})).snapshots).toEqual({
      entriesMax: 50_000,
      trailingEntries: 5_000,
    });
    const tuned = readFlags([...loopback, '--snapshot-entries', '500'], {
      RAFTKIT_SNAPSHOT_TRAILING: '0',
    });
    expect(serverConfig(tuned).snapshots).toEqual({ entriesMax: 500, trailingEntries: 0 });
    const bad = readFlags([...loopback, '--snapshot-entries', '0'], {});
    expect(() => serverConfig(bad)).toThrow(/--snapshot-entries/);
  });

  it('refuses an unauthenticated Raft port reachable from other hosts unless told --insecure', () => {
    expect(() => serverConfig(readFlags(members, {}))).toThrow(/authenticate it/);
    expect(serverConfig(readFlags([...members, '--insecure'], {})).secret).toBeNull();
    const loopback = serverConfig(readFlags([...members, '--bind-host', '127.0.0.1'], {}));
    expect(loopback.secret).toBeNull();
  });

  it('rejects unknown flags, bad values and half a TLS setup before anything starts', () => {
    expect(() => readFlags(['--nodes', '3'], {})).toThrow(FlagError);
    expect(() => readFlags([], { RAFTKIT_INSECURE: 'maybe' })).toThrow(/true, false/);
    const bad = (extra: string[]) => () => serverConfig(readFlags([...members, ...extra], {}));
    expect(bad(['--insecure', '--raft-port', '70000'])).toThrow(/--raft-port/);
    expect(bad(['--insecure', '--consistency', 'eventual'])).toThrow(/--consistency/);
    expect(bad(['--secret', 'short'])).toThrow(/at least 16/);
    expect(bad(['--tls-key', '/k.pem'])).toThrow(/all of --tls-key/);
    expect(() => serverConfig(readFlags(['--id', 'x', '--dir', '/d'], {}))).toThrow(
      /--layout or --members/,
    );
    expect(() =>
      serverConfig(
        readFlags(['--id', 'kv-9', '--dir', '/d', '--members', 'kv-0', '--insecure'], {}),
      ),
    ).toThrow(/not one of the members/);
  });
});
