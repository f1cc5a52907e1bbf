import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ScenarioReport } from './main.js';

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('shard map in the Raft log', () => {
  it('reassigns a dead server’s shards and every server agrees on the new map', async () => {
    // The scenario runs as its own process, importing raftkit the way an application does.
    const { stdout } = await run(
      process.execPath,
      ['--conditions=raftkit-source', '--import', 'tsx', 'apps/shard-map/main.ts', '--json'],
      { cwd: repositoryRoot, timeout: 45_000, killSignal: 'SIGKILL' },
    );
    const report = JSON.parse(stdout) as ScenarioReport;
    expect(report.running).toHaveLength(4);
    expect(report.running).not.toContain(report.killed);
    const before = report.before.shards;
    expect(before.some(({ primary, replica }) => [primary, replica].includes(report.killed))).toBe(
      true,
    );
    const maps = Object.values(report.after);
    // All servers agree on the map…
    for (const map of maps) expect(map).toEqual(maps[0]);
    const map = maps[0]!;
    expect(map.epoch).toBeGreaterThan(report.before.epoch);
    // …and every shard again has two distinct live owners.
    const live = new Set(report.running);
    for (const { primary, replica } of map.shards) {
      expect(primary).not.toBe(replica);
      expect(live.has(primary) && live.has(replica)).toBe(true);
    }
    // Owners that survived kept their shards.
    map.shards.forEach(({ primary, replica }, shard) => {
      const old = before[shard]!;
      for (const owner of [old.primary, old.replica]) {
        if (owner !== report.killed) expect([primary, replica]).toContain(owner);
      }
    });
    // Each survivor learned the new map through its applied-entry event.
    for (const id of report.running) expect(report.mapsSeen[id]).toBe(map.epoch);
    expect(report.deliveredAfter).toBe(report.devices);
  });
});
