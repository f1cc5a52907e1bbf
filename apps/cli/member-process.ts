import {
  existsSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ClusterLayout } from '../kv/cluster-layout.js';

/**
 * How long a server may take to stop after SIGTERM before it is killed. A graceful stop takes a
 * snapshot when many entries were applied since the last one (so the next start need not replay
 * them); with a hundred thousand keys on a loaded machine that took more than 5 s.
 */
export const serverStopMsMax = 20_000;
/** How long a process that got SIGKILL may take to disappear (it may not be reaped yet). */
const killedProcessMsMax = 2000;
const processPollMs = 50;

/** The file holding the process id of a member's server, in its data directory. */
export function pidPath(directory: string, id: string): string {
  return join(directory, id, 'server.pid');
}

/** Where a server started detached (by `raftkit cluster add` or `start-node`) writes its output. */
export function serverLogPath(directory: string, id: string): string {
  return join(directory, id, 'server.log');
}

/** Records the process id of `id`'s server. */
export function writePid(directory: string, id: string, pid: number): void {
  writeFileSync(pidPath(directory, id), `${pid}\n`);
}

/**
 * Whether a process with this id runs. A zombie (exited, not yet reaped by a parent that does
 * not reap, as in some containers) has stopped, though signal 0 still reaches it.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state follows the command name in parentheses, which may itself hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/**
 * The process id recorded for `id`, if that process still runs and is a server of `id` (its
 * command line names the member's data directory). A pid file outliving its process, whose id the
 * system gave to another program since, is not mistaken for the server.
 */
export function runningPid(directory: string, id: string): number | null {
  const file = pidPath(directory, id);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || !processAlive(pid)) return null;
  const commandLine = readCommandLine(pid);
  if (commandLine !== null && !commandLine.includes(join(directory, id))) return null;
  return pid;
}

/** A process's command line, from /proc where there is one; `null` elsewhere. */
function readCommandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

/**
 * Whether a member's data directory holds Raft state: a state file or a non-empty log segment.
 * The pid file, the output and the storage lock do not count, so a server that was refused
 * before it wrote anything still counts as empty.
 */
export function holdsRaftState(directory: string, id: string): boolean {
  const memberDirectory = join(directory, id);
  if (!existsSync(memberDirectory)) return false;
  return readdirSync(memberDirectory).some(
    (name) =>
      name === 'state' ||
      (name.startsWith('segment-') && statSync(join(memberDirectory, name)).size > 0) ||
      name.startsWith('snapshot'),
  );
}

/**
 * Stops a process by id: SIGTERM, then SIGKILL after {@link serverStopMsMax}. Resolves once it is
 * gone, or after a bounded wait for a killed process that is not reaped yet.
 */
export async function stopProcess(pid: number): Promise<void> {
  if (!processAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  if (await exitedWithin(pid, serverStopMsMax)) return;
  process.kill(pid, 'SIGKILL');
  await exitedWithin(pid, killedProcessMsMax);
}

async function exitedWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, processPollMs));
  }
  return true;
}

/**
 * Writes a layout whole: to a temporary file, then renamed over the old one, so a server that
 * reads it while it changes sees the old layout or the new one, never half of one.
 */
export function writeLayoutFile(path: string, layout: ClusterLayout): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(layout, null, 2) + '\n');
  renameSync(temporary, path);
}
