import type { RaftCore } from '../../core/raft-core.js';
import {
  arrayLogView,
  type ClusterView,
  type LogView,
  type ServerView,
} from '../checkers/cluster-view.js';
import type { Disk, TestServer } from './test-server.js';

/** A disk's log as the checkers read it. */
export function diskLogView(disk: Disk): LogView {
  return arrayLogView(disk.snapshot, disk.entries);
}

/** A core's log in memory as the checkers read it. */
function coreLogView(core: RaftCore, disk: Disk): LogView {
  const { snapshotIndex, lastIndex, lastTerm } = core.status();
  return {
    snapshotIndex,
    lastIndex,
    lastTerm,
    entry: (index) => core.entry(index),
    termAt: (index) => {
      // The core keeps no term for its compaction marker; the disk's marker is the same one.
      if (index === snapshotIndex && disk.snapshot.index === index) return disk.snapshot.term;
      return core.entry(index)?.term;
    },
  };
}

/**
 * The script cluster as the checkers read it: every server runs (a restart is instant), its
 * process is its core, and its disk is what its Readies wrote.
 */
export class CoreClusterView implements ClusterView {
  readonly #servers: ReadonlyMap<string, TestServer>;

  constructor(servers: ReadonlyMap<string, TestServer>) {
    this.#servers = servers;
  }

  *servers(): Iterable<ServerView> {
    for (const id of this.#servers.keys()) yield this.server(id)!;
  }

  server(id: string): ServerView | undefined {
    const server = this.#servers.get(id);
    if (server === undefined) return undefined;
    const { core, disk } = server;
    const status = core.status();
    return {
      id,
      process: {
        incarnation: server.incarnation,
        role: status.role,
        term: status.term,
        commitIndex: status.commitIndex,
        lastIndex: status.lastIndex,
        configuration: status.configuration,
        log: coreLogView(core, disk),
      },
      durable: { term: disk.hardState.term, vote: disk.hardState.vote, log: diskLogView(disk) },
    };
  }
}
