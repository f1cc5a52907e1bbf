import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { localLayout, splitHostPort, type ClusterLayout } from '../kv/cluster-layout.js';
import { sendOnce } from '../kv/resp/resp-client.js';
import { DashboardServer } from '../dashboard/dashboard-server.js';
import { LocalDashboardCluster } from '../dashboard/local-dashboard.js';
import { LocalCluster, busyPorts, layoutPath, portIsFree, secretPath } from './local-cluster.js';

/** Options of `raftkit cluster start`, already checked by the argument parser. */
export interface ClusterStartOptions {
  readonly nodes: number;
  readonly directory: string;
  /** First client port; `null` picks free ports near {@link clusterStartDefaults}.basePort. */
  readonly basePort: number | null;
  /** Where the dashboard listens on 127.0.0.1; 0 picks a free port; `null`: below the first client port. */
  readonly dashboardPort: number | null;
  readonly serverArgs: readonly string[];
  readonly print: (line: string) => void;
}

/**
 * The defaults of `raftkit cluster start`: `basePort` is where the search for free ports starts
 * when no `--base-port` is given.
 */
export const clusterStartDefaults = Object.freeze({ basePort: 7001 });
/** Base ports tried before giving up on finding free ones. */
const basePortAttemptsMax = 50;

/**
 * Starts a local cluster of server processes and keeps it running until SIGINT or SIGTERM, then
 * stops every server. A data directory that already holds a cluster is resumed as it is.
 *
 * A new directory gets its own cluster id, Raft secret and ports (checked free before anything
 * is written), so two local clusters never talk to each other. If a new cluster cannot start a
 * majority, what this start wrote is removed again, so the next attempt may pick other ports.
 * A server that fails while a majority runs is reported with its cause; the others keep serving.
 */
export async function clusterStart(options: ClusterStartOptions): Promise<void> {
  const resuming = existsSync(layoutPath(options.directory));
  const layout = resuming ? null : await newLayout(options);
  const cluster = new LocalCluster({
    directory: options.directory,
    // Ignored when resuming: the directory's own layout wins.
    layout: layout ?? localLayout({ nodes: 1, basePort: clusterStartDefaults.basePort }),
    serverArgs: options.serverArgs,
    output: options.print,
  });
  const dashboardCluster = new LocalDashboardCluster(cluster);
  const dashboard = new DashboardServer({
    cluster: dashboardCluster,
    port: options.dashboardPort ?? splitHostPort(cluster.layout.members[0]!.client).port - 1,
  });
  let stopping: Promise<void> | null = null;
  let release: () => void = () => undefined;
  const stopped = new Promise<void>((resolveStopped) => (release = resolveStopped));
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      options.print('stopping the cluster…');
      await dashboardCluster.close();
      await dashboard.stop();
      await cluster.stop();
      options.print('stopped; the data stays in ' + options.directory);
      release();
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  options.print(
    resuming
      ? `resuming the cluster in ${options.directory} (its cluster.json decides nodes and ports)`
      : `starting a ${options.nodes}-node cluster in ${options.directory}`,
  );
  const failures = await startMembers(cluster);
  const majority = Math.floor(cluster.layout.members.length / 2) + 1;
  if (cluster.running().length < majority) {
    await stop();
    if (!resuming) forgetNewCluster(options.directory, cluster.layout);
    throw new Error(
      `only ${cluster.running().length} of ${cluster.layout.members.length} servers started, ` +
        `fewer than a majority:\n  ${failures.join('\n  ')}` +
        (resuming ? '' : '\nnothing was kept; the next start chooses its ports again'),
    );
  }
  printSummary(cluster, options.print);
  for (const failure of failures) options.print(`  not running: ${failure}`);
  const leader = await waitForLeader(cluster);
  // The servers matter more than their dashboard: one that cannot listen is reported, not fatal.
  const dashboardLine = await dashboard.start().then(
    () => `dashboard ${dashboard.url}`,
    (error: unknown) =>
      `dashboard not started: ${error instanceof Error ? error.message : String(error)}`,
  );
  options.print('');
  options.print(leader === null ? 'no leader yet' : `leader: ${leader}`);
  options.print(dashboardLine);
  options.print('any server takes any command; `npx raftkit status` shows the cluster.');
  options.print('Ctrl-C stops the cluster.');
  // Child processes that exit do not end this one: only a signal does.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await stopped;
  clearInterval(keepAlive);
}

/**
 * Starts every member of the current membership (servers added since the first start included);
 * one still running, started detached, is left as it is. Returns why each that did not start
 * failed.
 */
async function startMembers(cluster: LocalCluster): Promise<string[]> {
  const stopped = cluster.layout.members.filter((member) => !cluster.isRunning(member.id));
  const results = await Promise.allSettled(stopped.map((member) => cluster.startMember(member.id)));
  return results.flatMap((result) =>
    result.status === 'rejected'
      ? [result.reason instanceof Error ? result.reason.message : String(result.reason)]
      : [],
  );
}

function printSummary(cluster: LocalCluster, print: (line: string) => void): void {
  print('');
  for (const member of cluster.layout.members) {
    const { host, port } = splitHostPort(member.client);
    const pid = cluster.pid(member.id);
    if (pid === undefined) continue;
    print(
      `  ${member.id}  redis-cli -h ${host} -p ${port}    metrics http://${member.http}/metrics    pid ${pid}`,
    );
  }
}

/** A layout for a new directory: a fresh cluster id and ports that are free right now. */
async function newLayout(options: ClusterStartOptions): Promise<ClusterLayout> {
  const clusterId = `local-${randomBytes(6).toString('hex')}`;
  if (options.basePort !== null) {
    const layout = localLayout({ nodes: options.nodes, basePort: options.basePort, clusterId });
    const busy = await busyPorts(layout);
    if (busy.length > 0) {
      throw new Error(`port ${busy.join(', ')} in use; choose another --base-port`);
    }
    return layout;
  }
  // Clusters started side by side take consecutive blocks of ports.
  const step = Math.max(10, options.nodes);
  for (let attempt = 0; attempt < basePortAttemptsMax; attempt++) {
    const basePort = clusterStartDefaults.basePort + attempt * step;
    const layout = localLayout({ nodes: options.nodes, basePort, clusterId });
    const dashboardFree =
      options.dashboardPort !== null || (await portIsFree('127.0.0.1', basePort - 1));
    if (dashboardFree && (await busyPorts(layout)).length === 0) return layout;
  }
  throw new Error('no free block of ports found; pass --base-port');
}

/** Removes what a first start wrote, so a failed first start pins neither ports nor members. */
function forgetNewCluster(directory: string, layout: ClusterLayout): void {
  rmSync(layoutPath(directory), { force: true });
  rmSync(secretPath(directory), { force: true });
  for (const member of layout.members) {
    rmSync(join(directory, member.id), { recursive: true, force: true });
  }
}

async function waitForLeader(cluster: LocalCluster): Promise<string | null> {
  const running = cluster.layout.members.filter((member) => cluster.pid(member.id) !== undefined);
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const member of running) {
      const reply = await sendOnce(member.client, ['RAFT', 'LEADER'], 1000).catch(() => null);
      if (reply?.type === 'array' && reply.value !== null) {
        const id = reply.value[0];
        if (id?.type === 'bulk' && id.value !== null) return id.value.toString();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}
