import type { NodeId } from '../../core/types.js';
import { isQuorum, isVoterIn, type ClusterView, type LogView } from './cluster-view.js';
import type { CommittedEntry } from './committed-log.js';
import { entryKey } from './entry-key.js';
import type { ViolationLog } from './safety-violation.js';

/** §5.4.1: whether a candidate with log `candidate` gets the vote of a server holding `voter`. */
function atLeastAsUpToDate(candidate: LogView, voter: LogView): boolean {
  if (candidate.lastTerm !== voter.lastTerm) return candidate.lastTerm > voter.lastTerm;
  return candidate.lastIndex >= voter.lastIndex;
}

function holds(log: LogView, committed: CommittedEntry): boolean {
  if (committed.index <= log.snapshotIndex) return true;
  const entry = log.entry(committed.index);
  return entry !== undefined && entryKey(entry) === committed.key;
}

/**
 * Leader completeness one step ahead (Raft §5.4.3): a server that lacks a committed entry can
 * never win an election. It could if a quorum of its configuration held logs no more up to date
 * than its own (§5.4.1), since those servers would grant it their votes in some later term.
 * Committing an entry of an earlier term by counting replicas (Figure 8) breaks this at once, long
 * before the wrong leader is elected. A down server is judged once it runs again; as a voter it
 * counts with what its disk holds.
 */
export class ElectableCompletenessChecker {
  readonly #log: ViolationLog;

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** Checks every running server of `cluster` against the highest committed entry. */
  check(cluster: ClusterView, committed: CommittedEntry | null): void {
    if (committed === null) return;
    // Each server is read once: a candidate that lacks the entry asks every voter.
    const servers = new Map([...cluster.servers()].map((server) => [server.id, server]));
    for (const candidate of servers.values()) {
      const process = candidate.process;
      if (process === null || !isVoterIn(process.configuration, candidate.id)) continue;
      // Storage ahead of the process (a leader's snapshot installed on disk that the process has
      // not taken yet, or a suffix it truncated but has not saved) does not make one server with
      // the process's configuration: the process campaigns with its own log and configuration.
      // It is judged once the two agree again, at the end of a later step.
      if (process.log.lastIndex > process.lastIndex) continue;
      this.#log.count();
      if (holds(process.log, committed)) continue;
      const grants = (id: NodeId): boolean => {
        const voter = servers.get(id);
        if (voter === undefined) return false;
        return atLeastAsUpToDate(process.log, voter.process?.log ?? voter.durable.log);
      };
      if (isQuorum(process.configuration, grants)) {
        this.#log.report(
          'leader-completeness',
          `${candidate.id} lacks committed entry ${committed.key} yet a quorum of its configuration would elect it`,
        );
      }
    }
  }
}
