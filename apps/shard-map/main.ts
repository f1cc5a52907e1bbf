import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatErrorChain } from 'raftkit';
import { ShardCluster } from './shard-cluster.js';
import { shardOf, type ShardMap } from './shard-map-machine.js';

/**
 * The shard-map example, start to finish: five servers agree on a shard map through Raft, devices
 * stream records to each shard's two owners, one server dies (the leader, the hardest case), the
 * new leader notices and rewrites the map, and every server applies the same new map.
 *
 * `npm run shard-map` narrates it; `--json` prints the final state for tests.
 */

/** Everything a reader (or a test) needs to judge the run. */
export interface ScenarioReport {
  readonly killed: string;
  readonly before: ShardMap;
  readonly after: Record<string, ShardMap>;
  readonly running: readonly string[];
  readonly mapsSeen: Record<string, number>;
  readonly deliveredAfter: number;
  readonly devices: number;
  readonly reassignMs: number;
}

const shardCount = 8;
const devices = 40;
/** Bound on each wait of the scenario. */
const waitMsMax = 20_000;

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + waitMsMax;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function describeMap(map: ShardMap): string {
  return map.shards
    .map(
      (owners, shard) => `  shard ${shard}: primary ${owners.primary}, replica ${owners.replica}`,
    )
    .join('\n');
}

async function runScenario(say: (line: string) => void): Promise<ScenarioReport> {
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-shard-map-'));
  const cluster = new ShardCluster({
    size: 5,
    shardCount,
    directory,
    server: { tickMs: 30, silenceMsMax: 900 },
  });
  try {
    await cluster.start();
    const agreedAndHealthy = (): boolean => {
      const running = cluster.running();
      const live = new Set(running.map((server) => server.id));
      const map = running[0]!.map;
      return (
        map.shards.length === shardCount &&
        running.every((server) => JSON.stringify(server.map) === JSON.stringify(map)) &&
        map.shards.every(({ primary, replica }) => live.has(primary) && live.has(replica))
      );
    };
    await waitFor('the first map', agreedAndHealthy);
    const before = cluster.running()[0]!.map;
    say(`5 servers agree on map epoch ${before.epoch}:\n${describeMap(before)}`);
    const mapsSeen: Record<string, number> = {};
    for (const server of cluster.running()) {
      server.onMap((map) => {
        mapsSeen[server.id] = map.epoch;
        say(`${server.id} applied map epoch ${map.epoch}`);
      });
    }
    const deliver = (deviceId: string): number => {
      const map = cluster.running()[0]!.map;
      const owners = map.shards[shardOf(deviceId, shardCount)]!;
      return [owners.primary, owners.replica].filter((id) => {
        const server = cluster.servers.get(id)!;
        return (
          server.node.running && server.ingest({ deviceId, payload: `reading at ${Date.now()}` })
        );
      }).length;
    };
    const deliveredBefore = Array.from({ length: devices }, (_, n) => deliver(`device-${n}`));
    say(
      `${devices} devices streamed; ${deliveredBefore.filter((count) => count === 2).length} reached both owners`,
    );
    const victim = cluster.leader() ?? cluster.running()[0]!;
    say(`killing ${victim.id} (the leader)`);
    const killedAt = Date.now();
    await cluster.kill(victim.id);
    await waitFor('a map without the dead server', () => {
      const survivor = cluster.running()[0]!;
      return survivor.map.epoch > before.epoch && agreedAndHealthy();
    });
    const reassignMs = Date.now() - killedAt;
    const after = Object.fromEntries(cluster.running().map((server) => [server.id, server.map]));
    const newMap = cluster.running()[0]!.map;
    say(
      `after ${reassignMs} ms every survivor holds map epoch ${newMap.epoch}:\n${describeMap(newMap)}`,
    );
    const deliveredAfter = Array.from({ length: devices }, (_, n) => deliver(`device-${n}`)).filter(
      (count) => count === 2,
    ).length;
    say(`${deliveredAfter} of ${devices} devices again reach two live owners`);
    return {
      killed: victim.id,
      before,
      after,
      running: cluster.running().map((server) => server.id),
      mapsSeen,
      deliveredAfter,
      devices,
      reassignMs,
    };
  } finally {
    await cluster.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
runScenario((line) => {
  if (!values.json) process.stdout.write(line + '\n');
}).then(
  (report) => {
    if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(
      `${formatErrorChain(error)}\n${error instanceof Error ? error.stack : ''}\n`,
    );
    process.exit(1);
  },
);
