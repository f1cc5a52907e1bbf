import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeStatus } from 'raftkit';
import type { CheckResult } from './metrics-http-server.js';

/** Entries committed but not yet applied beyond which a server does not call itself ready. */
export const readyAppliedLagMax = 1000;

function result(checks: CheckResult['checks']): CheckResult {
  return { ok: Object.values(checks).every((check) => check.ok), checks };
}

/**
 * Liveness: the node runs (a fatal error, such as a failed storage write, stops it) and the data
 * directory takes a write, which catches a full disk or a file system remounted read-only.
 */
export async function healthCheck(status: NodeStatus, directory: string): Promise<CheckResult> {
  const probe = join(directory, '.health-probe');
  let storage: { ok: boolean; detail: string };
  try {
    await writeFile(probe, String(status.commitIndex));
    await rm(probe, { force: true });
    storage = { ok: true, detail: 'writable' };
  } catch (error) {
    storage = { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
  return result({
    node: { ok: status.running, detail: status.running ? 'running' : 'stopped' },
    storage,
  });
}

/**
 * Readiness: the node runs, knows a leader, and has applied what it knows committed to within
 * {@link readyAppliedLagMax} entries, so reads and writes sent here can be served soon.
 */
export function readyCheck(status: NodeStatus): CheckResult {
  const lag = status.commitIndex - status.appliedIndex;
  return result({
    node: { ok: status.running, detail: status.running ? 'running' : 'stopped' },
    leader: {
      ok: status.leaderId !== null,
      detail: status.leaderId === null ? 'no leader known' : `leader ${status.leaderId}`,
    },
    applied: {
      ok: lag <= readyAppliedLagMax,
      detail: `${lag} committed entries not yet applied (at most ${readyAppliedLagMax})`,
    },
  });
}
