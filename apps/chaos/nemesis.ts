import { setTimeout as sleep } from 'node:timers/promises';
import type { RandomSource } from 'raftkit/core';
import type { ChaosCluster } from './chaos-cluster.js';

/** Every kind of fault the harness can inject, in the order the summary lists them. */
export const faultKinds = [
  'kill',
  'kill-leader',
  'pause',
  'pause-leader',
  'partition-halves',
  'partition-leader',
  'partition-bridge',
  'slow-network',
  'disk-full',
  'transfer-leadership',
  'snapshot',
  'membership',
] as const;

export type FaultKind = (typeof faultKinds)[number];

/** One injected fault, for `faults.json` and the summary. */
export interface FaultRecord {
  readonly kind: FaultKind;
  /** What was hit, for example `n3` or `n1 n2 | n3 n4 n5`. */
  target: string;
  /** Nanoseconds on the history's clock. */
  readonly startNs: number;
  endNs: number | null;
  /** Anything that went differently from the plan (a restart that failed, a refused transfer). */
  note?: string;
}

/** How the nemesis behaves. */
export interface NemesisOptions {
  readonly cluster: ChaosCluster;
  readonly kinds: readonly FaultKind[];
  /** Draws every choice; a seed of its own so the workload's timing does not shift the plan. */
  readonly random: RandomSource;
  /** How long a fault lasts, drawn between these. */
  readonly holdMs: readonly [number, number];
  /** Quiet time between two faults, drawn between these. */
  readonly gapMs: readonly [number, number];
  readonly now: () => number;
  /** Receives one line per fault as it starts and ends. */
  readonly log: (line: string) => void;
}

/** Undoes a fault. */
type Recovery = () => Promise<void> | void;

/** How long an administration command (a leadership transfer, a snapshot) may take. */
const adminTimeoutMs = 3000;
/** Most added latency of a slow network fault. */
const slowNetworkDelayMsMax = 200;

/**
 * Injects one fault at a time, chosen by the seed: it draws a kind, a target and a duration,
 * injects the fault, waits, undoes it, and rests before the next.
 */
export class Nemesis {
  readonly #options: NemesisOptions;
  readonly #records: FaultRecord[] = [];
  #running = false;
  #loop: Promise<void> | null = null;

  constructor(options: NemesisOptions) {
    if (options.kinds.length === 0) throw new Error('the nemesis needs at least one fault kind');
    this.#options = options;
  }

  get records(): readonly FaultRecord[] {
    return this.#records;
  }

  /** Faults injected per kind (every kind listed, zero included). */
  counts(): Record<FaultKind, number> {
    const counts = Object.fromEntries(faultKinds.map((kind) => [kind, 0])) as Record<
      FaultKind,
      number
    >;
    for (const record of this.#records) counts[record.kind]++;
    return counts;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Finishes the fault in progress (undoing it) and stops. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { random, holdMs, gapMs } = this.#options;
    while (this.#running) {
      await this.#sleepWhileRunning(between(random, gapMs));
      if (!this.#running) return;
      const kind = this.#options.kinds[Math.floor(random() * this.#options.kinds.length)]!;
      const hold = between(random, holdMs);
      const record: FaultRecord = { kind, target: '', startNs: this.#options.now(), endNs: null };
      let recover: Recovery = () => undefined;
      try {
        recover = await this.#inject(record);
      } catch (error) {
        record.note = `inject failed: ${String(error)}`;
      }
      this.#records.push(record);
      this.#options.log(`fault ${kind} ${record.target}${record.note ? ` (${record.note})` : ''}`);
      await this.#sleepWhileRunning(hold);
      try {
        await recover();
      } catch (error) {
        record.note = `${record.note ?? ''} recovery failed: ${String(error)}`.trim();
      }
      record.endNs = this.#options.now();
      this.#options.log(`healed ${kind} ${record.target}`);
    }
  }

  /** Sleeps `ms`, waking early when the nemesis is stopped. */
  async #sleepWhileRunning(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (this.#running && performance.now() < until) {
      await sleep(Math.min(100, until - performance.now()));
    }
  }

  async #inject(record: FaultRecord): Promise<Recovery> {
    const cluster = this.#options.cluster;
    const random = this.#options.random;
    // The random target is drawn even when the leader is used, so the plan stays the same.
    const anyone = pick(random, cluster.ids);
    const leader = record.kind.endsWith('leader') ? ((await cluster.leader()) ?? anyone) : anyone;
    const network = cluster.network;
    switch (record.kind) {
      case 'kill':
      case 'kill-leader': {
        record.target = leader;
        await cluster.kill(leader);
        return () => cluster.restart(leader);
      }
      case 'pause':
      case 'pause-leader': {
        record.target = leader;
        cluster.pause(leader);
        return () => cluster.resume(leader);
      }
      case 'partition-halves': {
        const shuffled = shuffle(random, cluster.ids);
        const minority = shuffled.slice(0, 1 + Math.floor(random() * 2));
        const majority = shuffled.slice(minority.length);
        record.target = `${minority.join(' ')} | ${majority.join(' ')}`;
        network.partition([minority, majority]);
        return () => network.heal();
      }
      case 'partition-leader': {
        const others = cluster.ids.filter((id) => id !== leader);
        record.target = `${leader} | ${others.join(' ')}`;
        network.partition([[leader], others]);
        return () => network.heal();
      }
      case 'partition-bridge': {
        // Two sides that cannot talk, and one server that talks to both.
        const shuffled = shuffle(random, cluster.ids);
        const bridge = shuffled[0]!;
        const half = Math.floor((shuffled.length - 1) / 2);
        const left = shuffled.slice(1, 1 + half);
        const right = shuffled.slice(1 + half);
        record.target = `${left.join(' ')} | ${right.join(' ')} bridged by ${bridge}`;
        network.cutBetween(left, right);
        return () => network.heal();
      }
      case 'slow-network': {
        const delayMs = Math.round(20 + random() * (slowNetworkDelayMsMax - 20));
        record.target = `${anyone} +${delayMs}ms`;
        network.slowDown(anyone, delayMs);
        return () => network.heal();
      }
      case 'disk-full': {
        record.target = anyone;
        await cluster.failDisk(anyone);
        return () => cluster.repairDisk(anyone);
      }
      case 'transfer-leadership':
        return this.#transfer(record, leader);
      case 'membership':
        return this.#removeAndReadd(record, anyone);
      case 'snapshot': {
        // Servers snapshot on their own every few hundred entries; this one does it now, in the
        // middle of whatever the workload and the last fault left behind.
        record.target = anyone;
        const reply = await cluster.command(anyone, ['RAFT', 'SNAPSHOT'], adminTimeoutMs);
        if (!reply.startsWith('{')) record.note = reply;
        return () => undefined;
      }
    }
  }

  async #removeAndReadd(record: FaultRecord, anyone: string): Promise<Recovery> {
    const cluster = this.#options.cluster;
    const leader = await cluster.leader();
    if (leader === null) {
      record.target = `-${anyone}`;
      record.note = 'no leader to change the membership';
      return () => undefined;
    }
    // Never the leader itself: that is a leadership change too, which other faults cover.
    const target = anyone === leader ? cluster.ids.find((id) => id !== leader)! : anyone;
    return removeAndReadd(cluster, record, leader, target);
  }

  async #transfer(record: FaultRecord, anyone: string): Promise<Recovery> {
    const cluster = this.#options.cluster;
    const leader = await cluster.leader();
    const target = anyone === leader ? cluster.ids.find((id) => id !== leader)! : anyone;
    record.target = `${leader ?? '?'} -> ${target}`;
    if (leader === null) {
      record.note = 'no leader to transfer from';
      return () => undefined;
    }
    const reply = await cluster.command(leader, ['RAFT', 'TRANSFER', target], adminTimeoutMs);
    if (reply !== 'OK') record.note = reply;
    return () => undefined;
  }
}

/** How long re-adding a removed server may keep being refused (a change in flight, no leader). */
const readdTimeoutMs = 30_000;

/**
 * Removes a follower from the configuration through the leader, and adds it back as a voter
 * (learner first, promoted once caught up) when the fault ends. The server keeps running and
 * keeps its data throughout, as a server taken out for maintenance would.
 */
async function removeAndReadd(
  cluster: ChaosCluster,
  record: FaultRecord,
  leader: string,
  target: string,
): Promise<Recovery> {
  record.target = `-${target}`;
  const removed = await cluster.command(leader, ['RAFT', 'REMOVE', target], adminTimeoutMs);
  if (!removed.startsWith('{')) {
    record.note = `remove: ${removed}`;
    // The change may have been appended before the error; adding back is then still needed.
  }
  return async () => {
    const deadline = performance.now() + readdTimeoutMs;
    let reply = '';
    while (performance.now() < deadline) {
      const current = await cluster.leader();
      if (current !== null && current !== target) {
        // The address as the leader reaches it: through the proxy of its link to the server.
        const address = cluster.network
          .layoutFor(current)
          .members.find((member) => member.id === target)!.raft;
        reply = await cluster
          .command(current, ['RAFT', 'ADDVOTER', target, address], readdTimeoutMs)
          .catch((error: unknown) => String(error));
        if (reply.startsWith('{') && votersOf(reply).includes(target)) return;
      }
      await sleep(500);
    }
    throw new Error(`${target} could not be added back: ${reply}`);
  };
}

/** The voters of a membership command's JSON reply. */
function votersOf(reply: string): readonly string[] {
  const parsed = JSON.parse(reply) as { readonly voters?: unknown };
  return Array.isArray(parsed.voters) ? (parsed.voters as string[]) : [];
}

function between(random: RandomSource, [low, high]: readonly [number, number]): number {
  return low + random() * (high - low);
}

function pick<T>(random: RandomSource, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function shuffle<T>(random: RandomSource, items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}
