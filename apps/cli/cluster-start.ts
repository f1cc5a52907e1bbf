import { existsSync } from 'node:fs';
import { localLayout, splitHostPort } from '../kv/cluster-layout.js';
import { sendOnce } from '../kv/resp/resp-client.js';
import { DashboardServer } from '../dashboard/dashboard-server.js';
import { LocalDashboardCluster } from '../dashboard/local-dashboard.js';
import { LocalCluster, layoutPath } from './local-cluster.js';

/** Options of `raftkit cluster start`. */
export interface ClusterStartOptions {
  readonly nodes: number;
  readonly directory: string;
  readonly basePort: number;
  readonly serverArgs: readonly string[];
  /** Where the dashboard listens on 127.0.0.1; 0 picks a free port. */
  readonly dashboardPort: number;
  readonly print: (line: string) => void;
}

/**
 * Starts a local cluster of server processes and keeps it running until SIGINT or SIGTERM, then
 * stops every server. A data directory that already holds a cluster is resumed as it is.
 */
export async function clusterStart(options: ClusterStartOptions): Promise<void> {
  const resuming = existsSync(layoutPath(options.directory));
  const cluster = new LocalCluster({
    directory: options.directory,
    layout: localLayout({ nodes: options.nodes, basePort: options.basePort }),
    serverArgs: options.serverArgs,
    output: options.print,
  });
  const dashboardCluster = new LocalDashboardCluster(cluster);
  const dashboard = new DashboardServer({ cluster: dashboardCluster, port: options.dashboardPort });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      options.print('stopping the cluster…');
      await dashboardCluster.close();
      await dashboard.stop();
      await cluster.stop();
      options.print('stopped; the data stays in ' + options.directory);
    })();
    return stopping;
  };
  const onSignal = (): void => {
    void stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  options.print(
    resuming
      ? `resuming the cluster in ${options.directory} (its cluster.json decides nodes and ports)`
      : `starting a ${options.nodes}-node cluster in ${options.directory}`,
  );
  try {
    await cluster.start();
  } catch (error) {
    await stop();
    throw error;
  }
  options.print('');
  for (const member of cluster.layout.members) {
    const { host, port } = splitHostPort(member.client);
    const pid = cluster.pid(member.id) ?? '?';
    options.print(
      `  ${member.id}  redis-cli -h ${host} -p ${port}    metrics http://${member.http}/metrics    pid ${pid}`,
    );
  }
  const leader = await waitForLeader(cluster.layout.members[0]!.client);
  await dashboard.start();
  options.print('');
  options.print(leader === null ? 'no leader yet' : `leader: ${leader}`);
  options.print(`dashboard ${dashboard.url}`);
  options.print('any server takes any command; `npx raftkit status` shows the cluster.');
  options.print('Ctrl-C stops the cluster.');
  await new Promise<never>(() => undefined);
}

async function waitForLeader(address: string): Promise<string | null> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const reply = await sendOnce(address, ['RAFT', 'LEADER'], 1000).catch(() => null);
    if (reply?.type === 'array' && reply.value !== null) {
      const id = reply.value[0];
      if (id?.type === 'bulk' && id.value !== null) return id.value.toString();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}
