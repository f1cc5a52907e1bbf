import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  readClusterLayout,
  splitHostPort,
  type ClusterLayout,
  type MemberAddresses,
} from '../kv/cluster-layout.js';
import type { RespValue } from '../kv/resp/resp-reply-parser.js';
import { askLeader, replyText, type KnownMember } from './cluster-client.js';
import {
  busyPorts,
  freePortLayout,
  layoutPath,
  mustJoin,
  readServerArgs,
  serverCommand,
  serverStartMsMax,
} from './local-cluster.js';
import {
  processAlive,
  runningPid,
  serverLogPath,
  stopProcess,
  writeLayoutFile,
  writePid,
} from './member-process.js';

/** How long one membership change may take on the leader, a new server's catch-up included. */
export const membershipChangeMsMax = 120_000;
/** Attempts at a change refused for a passing reason (an election, another change). */
const changeAttemptsMax = 40;
const changeRetryDelayMs = 500;
/** How often a starting server's log is checked for its ready line. */
const startPollMs = 100;
/** Error codes that pass by themselves: the change is tried again. */
const passingErrors =
  /^(CHANGE_IN_PROGRESS|NO_LEADER|NOTLEADER|PROPOSAL_DROPPED|OUTCOME_UNKNOWN)\b/;

/** Where the membership commands of `raftkit cluster` work, and where they report. */
export interface MemberCommandOptions {
  /** The local cluster's data directory. */
  readonly directory: string;
  readonly print: (line: string) => void;
}

function readLayout(directory: string): ClusterLayout {
  const file = layoutPath(directory);
  if (!existsSync(file)) {
    throw new Error(
      `no cluster in ${directory} (${file} is missing); run \`raftkit cluster start\``,
    );
  }
  return readClusterLayout(file);
}

function memberOf(layout: ClusterLayout, id: string, directory: string): MemberAddresses {
  const member = layout.members.find((candidate) => candidate.id === id);
  if (member === undefined) {
    const ids = layout.members.map((candidate) => candidate.id).join(', ');
    throw new Error(`${id} is not a member of the cluster in ${directory} (members: ${ids})`);
  }
  return member;
}

function known(members: readonly MemberAddresses[]): KnownMember[] {
  return members.map((member) => ({ id: member.id, client: member.client, http: member.http }));
}

/**
 * Runs a membership command on the leader, trying again while the cluster is between leaders or
 * busy with another change (bounded). Returns the configuration the change ended in, as text.
 */
async function changeOnLeader(
  members: readonly MemberAddresses[],
  args: readonly string[],
): Promise<string> {
  let last: Error = new Error('no attempt made');
  for (let attempt = 0; attempt < changeAttemptsMax; attempt++) {
    let reply: RespValue | null = null;
    try {
      reply = await askLeader(known(members), args, membershipChangeMsMax);
    } catch (error) {
      // No server answered, or the one asked went away: an election may be under way.
      last = error instanceof Error ? error : new Error(String(error));
    }
    if (reply !== null) {
      if (reply.type !== 'error' || !passingErrors.test(reply.message)) return replyText(reply);
      last = new Error(reply.message);
    }
    await new Promise((done) => setTimeout(done, changeRetryDelayMs));
  }
  throw new Error(`${args.slice(1).join(' ')} failed after ${changeAttemptsMax} attempts`, {
    cause: last,
  });
}

/** The highest `n<k>` among `ids`, 0 if none. */
function highestNumber(ids: readonly string[]): number {
  return Math.max(0, ...ids.map((id) => Number(/^n(\d+)$/.exec(id)?.[1] ?? 0)));
}

/**
 * The next member of a local cluster: an id no server ever had here (every member keeps its
 * data directory, removed ones too, so an old server never comes back under a new member's id),
 * with ports following the layout's pattern when they are free, else free ports picked anew.
 */
export async function nextMember(
  directory: string,
  layout: ClusterLayout,
): Promise<MemberAddresses> {
  const ids = [...layout.members.map((member) => member.id), ...readdirSync(directory)];
  const number = highestNumber(ids) + 1;
  const id = `n${number}`;
  const first = layout.members[0]!;
  const offset = number - highestNumber([first.id]);
  const shifted = (address: string): string => {
    const { host, port } = splitHostPort(address);
    return `${host}:${port + offset}`;
  };
  const patterned: MemberAddresses = {
    id,
    client: shifted(first.client),
    raft: shifted(first.raft),
    http: shifted(first.http),
  };
  const taken = new Set(
    layout.members.flatMap((member) => [member.client, member.raft, member.http]),
  );
  const clashes = [patterned.client, patterned.raft, patterned.http].some(
    (address) => taken.has(address) || splitHostPort(address).port > 65_535,
  );
  if (
    !clashes &&
    (await busyPorts({ clusterId: layout.clusterId, members: [patterned] })).length === 0
  ) {
    return patterned;
  }
  const free = (await freePortLayout(1, layout.clusterId)).members[0]!;
  return { ...free, id };
}

/**
 * Starts one member's server as a detached process, its output in `<dir>/<id>/server.log`, and
 * waits until it is ready. It outlives this command; `cluster stop-node`, `cluster remove` and
 * Ctrl-C on `cluster start` stop it through its pid file.
 */
export async function startDetached(directory: string, member: MemberAddresses): Promise<number> {
  const root = resolve(directory);
  const layout = readLayout(root);
  const running = runningPid(root, member.id);
  if (running !== null) throw new Error(`${member.id} is running already (pid ${running})`);
  mkdirSync(resolve(root, member.id), { recursive: true });
  const logFile = serverLogPath(root, member.id);
  const startOffset = existsSync(logFile) ? readFileSync(logFile).length : 0;
  const command = serverCommand({
    directory: root,
    id: member.id,
    join: mustJoin(root, layout, member.id),
    exitWithParent: false,
    serverArgs: readServerArgs(root),
  });
  const output = openSync(logFile, 'a');
  const child = spawn(command.command, command.args, {
    cwd: command.cwd,
    detached: true,
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${member.id} could not be started`);
  child.unref();
  writePid(root, member.id, pid);
  const deadline = Date.now() + serverStartMsMax;
  while (Date.now() < deadline) {
    // The server prints this line once its listeners are bound (see apps/kv/main.ts).
    const written = readFileSync(logFile).subarray(startOffset).toString('utf8');
    if (written.split('\n').includes(`${member.id} ready`)) return pid;
    if (!processAlive(pid)) {
      const tail = written.trim().split('\n').slice(-3).join(' / ');
      throw new Error(`${member.id} exited while starting: ${tail} (see ${logFile})`);
    }
    await new Promise((done) => setTimeout(done, startPollMs));
  }
  await stopProcess(pid);
  throw new Error(`${member.id} did not start within ${serverStartMsMax} ms; see ${logFile}`);
}

/**
 * `raftkit cluster add`: one more server for the local cluster. It is written into the layout,
 * added as a learner, started detached in join mode, then promoted to voter once it has caught
 * up. Returns its addresses.
 */
export async function clusterAdd(options: MemberCommandOptions): Promise<MemberAddresses> {
  const directory = resolve(options.directory);
  const layout = readLayout(directory);
  const member = await nextMember(directory, layout);
  const grown: ClusterLayout = { ...layout, members: [...layout.members, member] };
  // Written first: the servers read client addresses from it when the change reaches them.
  writeLayoutFile(layoutPath(directory), grown);
  options.print(`adding ${member.id} (raft ${member.raft}) as a learner…`);
  try {
    await changeOnLeader(layout.members, ['RAFT', 'ADDLEARNER', member.id, member.raft]);
    const pid = await startDetached(directory, member);
    options.print(`${member.id} started (pid ${pid}); promoting it once it has caught up…`);
  } catch (error) {
    await undoAdd(directory, layout, member).catch(() => undefined);
    throw error;
  }
  const configuration = await changeOnLeader(grown.members, ['RAFT', 'PROMOTE', member.id]);
  options.print(`${member.id} is a voter: ${configuration}`);
  options.print(`  ${member.id}  redis-cli -p ${splitHostPort(member.client).port}`);
  return member;
}

/** Takes back a half-done add: the learner leaves the configuration, the layout is restored. */
async function undoAdd(
  directory: string,
  layout: ClusterLayout,
  member: MemberAddresses,
): Promise<void> {
  const pid = runningPid(directory, member.id);
  if (pid !== null) await stopProcess(pid);
  try {
    await changeOnLeader(layout.members, ['RAFT', 'REMOVE', member.id]);
  } finally {
    writeLayoutFile(layoutPath(directory), layout);
  }
}

/**
 * `raftkit cluster remove <id>`: removes a server, alive or dead, and stops its process if it
 * runs. The others are asked first, since the one leaving may be down. Its data directory stays,
 * so its id is never given to a new server.
 */
export async function clusterRemove(options: MemberCommandOptions, id: string): Promise<string> {
  const directory = resolve(options.directory);
  const layout = readLayout(directory);
  const leaving = memberOf(layout, id, directory);
  if (layout.members.length === 1) throw new Error(`${id} is the last member; it cannot leave`);
  const others = layout.members.filter((member) => member.id !== id);
  const configuration = await changeOnLeader([...others, leaving], ['RAFT', 'REMOVE', id]);
  options.print(`${id} removed: ${configuration}`);
  writeLayoutFile(layoutPath(directory), { ...layout, members: others });
  const pid = runningPid(directory, id);
  if (pid !== null) {
    await stopProcess(pid);
    options.print(`${id} stopped (pid ${pid})`);
  }
  return configuration;
}

/** `raftkit cluster stop-node <id>`: stops one server; it stays a member. */
export async function clusterStopNode(options: MemberCommandOptions, id: string): Promise<void> {
  const directory = resolve(options.directory);
  memberOf(readLayout(directory), id, directory);
  const pid = runningPid(directory, id);
  if (pid === null) throw new Error(`${id} is not running`);
  await stopProcess(pid);
  options.print(`${id} stopped (pid ${pid})`);
}

/** `raftkit cluster start-node <id>`: starts one stopped member again, detached, on its data. */
export async function clusterStartNode(options: MemberCommandOptions, id: string): Promise<void> {
  const directory = resolve(options.directory);
  const member = memberOf(readLayout(directory), id, directory);
  const pid = await startDetached(directory, member);
  options.print(`${id} started (pid ${pid})  redis-cli -p ${splitHostPort(member.client).port}`);
}
