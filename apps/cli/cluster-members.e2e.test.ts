import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClusterLayout, splitHostPort } from '../kv/cluster-layout.js';
import { sendOnce } from '../kv/resp/resp-client.js';
import { strictRedis, waitFor } from '../kv/process-test.test-helpers.js';
import { LocalCluster, freePortLayout, layoutPath } from './local-cluster.js';
import { runningPid } from './member-process.js';

// The CLI driven as a person drives it, against real server processes on 127.0.0.1: a follower
// dies and is removed, a server is added, the leader is removed, another is added, and every
// write acknowledged along the way is then read back from every member's own copy.

const run = promisify(execFile);
const cliMain = new URL('./main.ts', import.meta.url).pathname;
/** One CLI command may wait this long: an add starts a server and waits for its catch-up. */
const commandMsMax = 150_000;
/** Writes the writer makes at most (it stops earlier, when the membership steps are done). */
const writesMax = 5000;

let directory = '';
let cluster: LocalCluster | null = null;

async function raftkit(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--conditions=raftkit-source', '--import', 'tsx', cliMain, ...args, '--dir', directory],
    { timeout: commandMsMax },
  );
  return stdout;
}

function members(): { id: string; client: string }[] {
  if (!existsSync(layoutPath(directory))) return [];
  return readClusterLayout(layoutPath(directory)).members.map(({ id, client }) => ({
    id,
    client,
  }));
}

async function leader(): Promise<string> {
  return waitFor(
    'a leader',
    async () => {
      for (const member of members()) {
        const reply = await sendOnce(member.client, ['RAFT', 'STATUS'], 2000).catch(() => null);
        if (reply?.type !== 'bulk' || reply.value === null) continue;
        const status = JSON.parse(reply.value.toString()) as { role: string; id: string };
        if (status.role === 'leader') return status.id;
      }
      return null;
    },
    60_000,
  );
}

/**
 * Writes key after key through whichever member is listed, moving on at every failure; keeps
 * the keys a server acknowledged. Stops when told to or after `writesMax` writes.
 */
function startWriter(): { stop: () => Promise<Map<string, string>> } {
  const acknowledged = new Map<string, string>();
  let stopping = false;
  const done = (async () => {
    for (let attempt = 0; attempt < writesMax && !stopping; attempt++) {
      const list = members();
      const target = list[attempt % list.length];
      if (target === undefined) break;
      const redis = strictRedis(target.client);
      try {
        await redis.connect();
        const key = `key-${attempt}`;
        if ((await redis.set(key, `value-${attempt}`)) === 'OK') {
          acknowledged.set(key, `value-${attempt}`);
        }
      } catch {
        // Not acknowledged: the member is down, leaving, or lost its leader.
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        redis.disconnect();
      }
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
      return acknowledged;
    },
  };
}

/** Reads `keys` from `address`'s own state machine (stale reads are not forwarded). */
async function localValues(address: string, keys: readonly string[]): Promise<(string | null)[]> {
  const redis = strictRedis(address);
  try {
    await redis.connect();
    await redis.call('RAFT', 'CONSISTENCY', 'stale');
    return await redis.mget(...keys);
  } finally {
    redis.disconnect();
  }
}

let stopWriter: (() => Promise<unknown>) | null = null;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'raftkit-cli-members-'));
  cluster = new LocalCluster({ directory, layout: await freePortLayout(3) });
  await cluster.start();
  await leader();
}, 90_000);

afterAll(async () => {
  // A failed test leaves its writer running: stop it before the directory goes.
  await stopWriter?.();
  // Stops the servers the CLI started detached as well, through their pid files.
  await cluster?.stop();
  if (directory !== '') rmSync(directory, { recursive: true, force: true });
}, 60_000);

describe('raftkit cluster add / remove on a running cluster', () => {
  it('replaces a dead follower and the leader while every acknowledged write survives', async () => {
    const writer = startWriter();
    stopWriter = writer.stop;
    const firstLeader = await leader();
    const follower = ['n1', 'n2', 'n3'].find((id) => id !== firstLeader)!;
    await cluster!.kill(follower, 'SIGKILL');

    expect(await raftkit('cluster', 'remove', follower)).toContain(`${follower} removed`);
    const added = await raftkit('cluster', 'add');
    const fourth = members().at(-1)!;
    expect(fourth.id).toBe('n4');
    expect(added).toContain(`n4 is a voter`);
    expect(added).toContain(`redis-cli -p ${splitHostPort(fourth.client).port}`);
    // Detached, with its log in its own data directory.
    expect(runningPid(directory, 'n4')).not.toBeNull();
    expect(readFileSync(join(directory, 'n4', 'server.log'), 'utf8')).toContain('n4 ready');

    const secondLeader = await leader();
    const removed = await raftkit('cluster', 'remove', secondLeader);
    expect(removed).toContain(`${secondLeader} removed`);
    expect(removed).toContain(`${secondLeader} stopped`);
    await waitFor(
      `${secondLeader} gone`,
      () => Promise.resolve(cluster!.isRunning(secondLeader) ? null : true),
      60_000,
    );
    expect(await raftkit('cluster', 'add')).toContain('n5 is a voter');
    const acknowledged = await writer.stop();

    const final = JSON.parse(await raftkit('members', '--json')) as Record<string, unknown>[];
    const expectedIds = ['n1', 'n2', 'n3', 'n4', 'n5']
      .filter((id) => id !== follower && id !== secondLeader)
      .sort();
    expect(final.map((entry) => entry.id).sort()).toEqual(expectedIds);
    for (const entry of final) {
      expect(Object.keys(entry).sort()).toEqual(
        ['client', 'http', 'id', 'leader', 'raft', 'voter'].sort(),
      );
      expect(entry.voter).toBe(true);
    }
    expect(final.filter((entry) => entry.leader === true)).toHaveLength(1);

    expect(acknowledged.size).toBeGreaterThan(0);
    const keys = [...acknowledged.keys()];
    const expected = keys.map((key) => acknowledged.get(key)!);
    for (const member of members()) {
      // Each member applies up to the commit it knows of; wait until its copy holds everything.
      const values = await waitFor(
        `every write on ${member.id}`,
        async () => {
          const read = await localValues(member.client, keys);
          return read.every((value, position) => value === expected[position]) ? read : null;
        },
        60_000,
      );
      expect(values).toEqual(expected);
    }

    // A member whose disk died comes back empty under its old id: refused, never a second seed.
    const wiped = members().find((member) => member.id !== secondLeader)!.id;
    expect(await raftkit('cluster', 'stop-node', wiped)).toContain(`${wiped} stopped`);
    rmSync(join(directory, wiped), { recursive: true, force: true });
    await expect(raftkit('cluster', 'start-node', wiped)).rejects.toThrow(/DATA_LOST/);
  }, 300_000);
});
