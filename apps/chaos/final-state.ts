import { setTimeout as sleep } from 'node:timers/promises';
import { RespClient } from '../kv/resp/resp-client.js';
import type { RespValue } from '../kv/resp/resp-reply-parser.js';
import type { ChaosCluster, ServerStatus } from './chaos-cluster.js';
import type { HistoryEntry } from './history.js';

/** Keys read per MGET when collecting the final state. */
const keysPerRead = 200;
/** Between two status polls while waiting for convergence. */
const pollIntervalMs = 250;
/** How long one final read may take. */
const finalReadTimeoutMs = 10_000;

/** Whether the healed cluster settled, and where. */
export type Convergence =
  | { readonly converged: true; readonly leader: string; readonly appliedIndex: number }
  | { readonly converged: false; readonly statuses: readonly (ServerStatus | null)[] };

/**
 * Waits until every server answers, all agree on one leader, and all have applied the same
 * commit index, twice in a row (so a server that is still catching up is not mistaken for done).
 */
export async function awaitConvergence(
  cluster: ChaosCluster,
  timeoutMs: number,
): Promise<Convergence> {
  const deadline = performance.now() + timeoutMs;
  let previous: string | null = null;
  let statuses: (ServerStatus | null)[] = [];
  while (performance.now() < deadline) {
    statuses = await Promise.all(cluster.ids.map((id) => cluster.status(id)));
    const settled = settledPoint(statuses);
    if (settled !== null && settled === previous) {
      const [leader, applied] = settled.split('@') as [string, string];
      return { converged: true, leader, appliedIndex: Number(applied) };
    }
    previous = settled;
    await sleep(pollIntervalMs);
  }
  return { converged: false, statuses };
}

/** `leader@appliedIndex` when every server agrees on both, else null. */
function settledPoint(statuses: readonly (ServerStatus | null)[]): string | null {
  const first = statuses[0];
  if (first === null || first === undefined || first.leaderId === null) return null;
  for (const status of statuses) {
    if (status === null) return null;
    if (status.leaderId !== first.leaderId || status.term !== first.term) return null;
    if (status.appliedIndex !== status.commitIndex) return null;
    if (status.appliedIndex !== first.appliedIndex) return null;
  }
  return `${first.leaderId}@${first.appliedIndex}`;
}

/** One server's state: the values of the workload's keys and how many keys it holds in all. */
export interface ServerState {
  readonly values: Map<string, string | null>;
  readonly size: number;
}

/** Every key's value on one server, read at one consistency. */
export async function readAll(options: {
  readonly address: string;
  readonly keys: readonly string[];
  readonly consistency: 'linearizable' | 'stale';
  /** When given, each read is added to the history as `get`s by this client. */
  readonly record?: { readonly client: number; readonly add: (entry: HistoryEntry) => void };
  readonly now: () => number;
}): Promise<ServerState> {
  const client = await RespClient.connect(options.address, finalReadTimeoutMs);
  const values = new Map<string, string | null>();
  try {
    await expectOk(client.send(['RAFT', 'CONSISTENCY', options.consistency]));
    for (let start = 0; start < options.keys.length; start += keysPerRead) {
      const keys = options.keys.slice(start, start + keysPerRead);
      const call = options.now();
      const reply = await withDeadline(client.send(['MGET', ...keys]));
      const returned = options.now();
      if (reply.type !== 'array' || reply.value === null) {
        throw new Error(`MGET on ${options.address} answered ${describe(reply)}`);
      }
      reply.value.forEach((item, index) => {
        const key = keys[index]!;
        const output = item.type === 'bulk' && item.value !== null ? item.value.toString() : null;
        values.set(key, output);
        options.record?.add({
          client: options.record.client,
          op: 'get',
          key,
          output,
          call,
          return: returned,
        });
      });
    }
    const size = await withDeadline(client.send(['DBSIZE']));
    if (size.type !== 'integer') throw new Error(`DBSIZE answered ${describe(size)}`);
    return { values, size: Number(size.value) };
  } finally {
    client.close();
  }
}

/** Keys whose values differ between two servers' states (at most `limit` of them). */
export function differingKeys(
  left: ReadonlyMap<string, string | null>,
  right: ReadonlyMap<string, string | null>,
  limit: number,
): string[] {
  const differing: string[] = [];
  for (const [key, value] of left) {
    if (differing.length >= limit) break;
    if ((right.get(key) ?? null) !== value) differing.push(key);
  }
  return differing;
}

async function expectOk(request: Promise<RespValue>): Promise<void> {
  const reply = await withDeadline(request);
  if (reply.type !== 'simple') throw new Error(`expected OK, got ${describe(reply)}`);
}

function describe(reply: RespValue): string {
  return reply.type === 'error' ? reply.message : reply.type;
}

async function withDeadline(request: Promise<RespValue>): Promise<RespValue> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      request,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('final read timed out')), finalReadTimeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
