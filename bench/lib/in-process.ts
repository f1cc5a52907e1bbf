// The in-process shapes: 3 servers in this process with memory storage and 100-byte commands,
// driven through the full runtime (RaftNode on the in-process network) and through the core
// alone (three RaftCores passing messages by hand, one Ready per server per round), which is how
// etcd's raft package is measured when it is driven without its runtime.
import { performance } from 'node:perf_hooks';
import { RaftNode, type StateMachine } from 'raftkit';
import {
  RaftCore,
  bootstrapSnapshot,
  configurationOf,
  seededRandom,
  type RaftMessage,
} from 'raftkit/core';
import { MemoryStorage } from 'raftkit/storage/memory';
import { InProcessNetwork } from 'raftkit/transport/in-process';
import { latencySummary } from './stats.js';

/** The command size every in-process shape proposes. */
export const commandBytes = 100;

/** The commands per `proposeBatch` call of the batched shapes. */
export const batchCommands = 64;

/** One measured shape. */
export interface InProcessRow {
  readonly driver: 'RaftNode' | 'RaftNode with a session' | 'RaftNode, batches' | 'RaftCore';
  /** Commands outstanding at once (for batches: batches in flight times their size). */
  readonly inFlight: number;
  /** Commands per call: 1 for `propose`, the batch size for `proposeBatch`. */
  readonly commandsPerCall: number;
  readonly seconds: number;
  readonly proposals: number;
  readonly proposalsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

class Counter implements StateMachine<number> {
  total = 0;
  apply(): number {
    return ++this.total;
  }
}

/** A row from one latency per call; every command of a call has its call's latency. */
function row(
  driver: InProcessRow['driver'],
  shape: { readonly inFlight: number; readonly commandsPerCall: number },
  elapsedMs: number,
  latencies: number[],
): InProcessRow {
  const seconds = elapsedMs / 1000;
  const proposals = latencies.length * shape.commandsPerCall;
  return {
    driver,
    ...shape,
    seconds: Number(seconds.toFixed(2)),
    proposals,
    proposalsPerSecond: Math.round(proposals / seconds),
    ...latencySummary(latencies),
  };
}

/**
 * Proposals/s of 3 RaftNodes, keeping `inFlight` proposals outstanding on the leader. With
 * `session`, every proposal goes through one client session (docs/sessions.md), numbered and
 * checked against the session table on every server: the price of exactly-once. With `batch`,
 * the commands go `batch` at a time through `proposeBatch`, `inFlight / batch` calls outstanding
 * (so the commands in flight are the same as for plain proposals); latencies are per call.
 */
export async function measureNodes(
  inFlight: number,
  seconds: number,
  options: { readonly session?: boolean; readonly batch?: number } = {},
): Promise<InProcessRow> {
  const commandsPerCall = options.batch ?? 1;
  if (!Number.isInteger(commandsPerCall) || commandsPerCall < 1 || inFlight % commandsPerCall) {
    throw new Error(`in flight (${inFlight}) must be a multiple of the batch (${commandsPerCall})`);
  }
  if (options.session === true && commandsPerCall > 1) {
    throw new Error('batches take no session');
  }
  const network = new InProcessNetwork();
  const ids = ['n1', 'n2', 'n3'];
  const nodes = ids.map(
    (id) =>
      new RaftNode({
        id,
        storage: new MemoryStorage(),
        transport: network.transport(),
        stateMachine: new Counter(),
        initialConfiguration: ids,
        tickMs: 50,
      }),
  );
  await Promise.all(nodes.map((node) => node.start()));
  try {
    await Promise.all(nodes.map((node) => node.waitForLeader()));
    const leader = nodes.find((node) => node.role === 'leader');
    if (leader === undefined) throw new Error('no leader elected');
    const command = new Uint8Array(commandBytes).fill(120);
    const session =
      options.session === true ? await leader.openSession({ unansweredMax: inFlight }) : null;
    const batch = Array.from({ length: commandsPerCall }, () => command);
    const propose =
      session !== null
        ? () => session.propose(command)
        : commandsPerCall > 1
          ? () => leader.proposeBatch(batch)
          : () => leader.propose(command);
    const latencies: number[] = [];
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const worker = async (): Promise<void> => {
      // A proposal's end is the next one's start and the deadline check: reading the clock once
      // per proposal instead of three times, since the reads are part of what this process runs.
      let begin = performance.now();
      while (begin < deadline) {
        await propose();
        const end = performance.now();
        latencies.push(end - begin);
        begin = end;
      }
    };
    await Promise.all(Array.from({ length: inFlight / commandsPerCall }, worker));
    const driver =
      session !== null
        ? 'RaftNode with a session'
        : commandsPerCall > 1
          ? 'RaftNode, batches'
          : 'RaftNode';
    return row(driver, { inFlight, commandsPerCall }, performance.now() - started, latencies);
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
  }
}

/**
 * Proposals/s of 3 RaftCores with no runtime: each round tops the leader up to `inFlight`
 * outstanding proposals in one `propose` call, takes every server's Ready, reports it done at
 * once (memory storage holds nothing the core does not) and delivers the messages. A proposal is
 * done when the leader hands it out as committed.
 */
export function measureCore(inFlight: number, seconds: number): InProcessRow {
  const ids = ['1', '2', '3'];
  const snapshot = bootstrapSnapshot(configurationOf(ids), { preVote: false, checkQuorum: false });
  const cores = new Map(
    ids.map((id) => [
      id,
      new RaftCore(
        { id, random: seededRandom(Number(id)) },
        { hardState: { term: 0, vote: null, commit: 0 }, snapshot, entries: [] },
      ),
    ]),
  );
  const leader = cores.get('1')!;
  const startTimes = new Map<number, number>();
  const latencies: number[] = [];
  const round = (): number => {
    const outbox: RaftMessage[] = [];
    for (const core of cores.values()) {
      if (!core.hasReady()) continue;
      const ready = core.ready();
      outbox.push(...ready.messages, ...ready.messagesAfterPersist);
      core.advance(ready);
      if (core !== leader) continue;
      const now = performance.now();
      for (const entry of ready.committed) {
        const begin = startTimes.get(entry.index);
        if (begin === undefined) continue;
        startTimes.delete(entry.index);
        latencies.push(now - begin);
      }
    }
    for (const message of outbox) cores.get(message.to)!.step(message);
    return outbox.length;
  };
  leader.campaign();
  for (let rounds = 0; rounds < 100 && leader.role !== 'leader'; rounds++) round();
  if (leader.role !== 'leader') throw new Error('core 1 was not elected');
  const command = new Uint8Array(commandBytes).fill(120);
  const batch: Uint8Array[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    const missing = inFlight - startTimes.size;
    if (missing > 0) {
      batch.length = 0;
      for (let count = 0; count < missing; count++) batch.push(command);
      const placement = leader.propose(batch);
      if (!placement.placed) throw placement.error;
      const now = performance.now();
      for (let index = placement.firstIndex; index <= placement.lastIndex; index++) {
        startTimes.set(index, now);
      }
    }
    round();
  }
  return row('RaftCore', { inFlight, commandsPerCall: 1 }, performance.now() - started, latencies);
}
