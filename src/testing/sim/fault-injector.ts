import type { RandomSource } from '../../core/random.js';
import type { NodeId } from '../../core/types.js';
import {
  between,
  drawNetworkFaults,
  pick,
  shuffle,
  type FaultPlan,
  type FaultWeights,
} from './fault-plan.js';
import { startRandomMembershipChange } from './membership-faults.js';
import type { SimCluster } from './sim-cluster.js';

/** How long a partition, a blocked link or a slow disk lasts, in virtual milliseconds. */
const faultDurationMs = Object.freeze({ min: 30, max: 600 });
/** How long a dead process stays down before it restarts; some restarts are almost instant. */
const downtimeMs = Object.freeze({ min: 10, max: 500, quickMax: 3, quickShare: 0.3 });
/** A slow disk's sync delay range. */
const slowDiskMs = Object.freeze({ min: 5, max: 120 });

type FaultEvent = keyof FaultWeights;

/** What the rest of a run may do when the injector acts. */
export interface FaultInjectorHooks {
  /** A leader was just cut off from every other server. */
  onLeaderIsolated?(leaderId: NodeId): void;
}

/**
 * Injects the faults of a {@link FaultPlan} into a cluster during the safety phase, on the
 * cluster's clock: partitions, one-way cuts, crashes (maybe with torn tails), failed writes, slow
 * disks, changes of the random network faults, and membership changes on the leader. Every fault that can end does end after a
 * while, and every dead process is restarted, so the cluster keeps making some progress.
 */
export class FaultInjector {
  readonly #cluster: SimCluster<unknown, unknown, unknown>;
  readonly #plan: FaultPlan;
  readonly #random: RandomSource;
  readonly #stopListening: () => void;
  readonly #hooks: FaultInjectorHooks;
  #running = false;
  #crashAfterVoteArmed = false;

  constructor(
    cluster: SimCluster<unknown, unknown, unknown>,
    plan: FaultPlan,
    random: RandomSource,
    hooks: FaultInjectorHooks = {},
  ) {
    this.#cluster = cluster;
    this.#hooks = hooks;
    this.#plan = plan;
    this.#random = random;
    this.#stopListening = cluster.listen({
      onProcessDied: (nodeId) => {
        if (!this.#running) return;
        const downMs =
          random() < downtimeMs.quickShare
            ? between(random, 0, downtimeMs.quickMax)
            : between(random, downtimeMs.min, downtimeMs.max);
        this.#later(downMs, () => this.#restart(nodeId));
      },
      onSend: (message) => {
        if (!this.#crashAfterVoteArmed || !this.#running) return;
        if (message.type !== 'request-vote-response' || message.preVote || !message.granted) return;
        this.#crashAfterVoteArmed = false;
        // Crash on the next step: the vote has left, nothing after it has.
        // A supervisor restarts the process at once: the next request in this term finds it.
        this.#later(0, () => {
          if (!this.#cluster.hasLiveProcess(message.from)) return;
          this.#cluster.faults.add('crash-after-vote');
          this.#crash(message.from);
          this.#cluster.restart(message.from);
        });
      },
    });
  }

  /** Begins injecting faults. */
  start(): void {
    this.#running = true;
    this.#scheduleNext();
  }

  /** Stops injecting; the faults in force stay until the caller heals the cluster. */
  stop(): void {
    this.#running = false;
    this.#stopListening();
  }

  #scheduleNext(): void {
    const delayMs = this.#random() * 2 * this.#plan.faultIntervalMs;
    this.#later(delayMs, () => {
      this.#inject(this.#chooseEvent());
      this.#scheduleNext();
    });
  }

  /** Runs `action` after `delayMs` unless injection has stopped by then. */
  #later(delayMs: number, action: () => void): void {
    this.#cluster.clock.schedule(delayMs, () => {
      if (this.#running) action();
    });
  }

  #chooseEvent(): FaultEvent | null {
    const weights = Object.entries(this.#plan.weights) as [FaultEvent, number][];
    const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
    if (total === 0) return null;
    let point = this.#random() * total;
    for (const [event, weight] of weights) {
      point -= weight;
      if (point < 0) return event;
    }
    return null;
  }

  #duration(): number {
    return between(this.#random, faultDurationMs.min, faultDurationMs.max);
  }

  #inject(event: FaultEvent | null): void {
    const cluster = this.#cluster;
    const ids = cluster.ids;
    switch (event) {
      case null:
        return;
      case 'partition': {
        const shuffled = shuffle(this.#random, ids);
        const cut = 1 + Math.floor(this.#random() * (ids.length - 1));
        cluster.partition(shuffled.slice(0, cut), shuffled.slice(cut));
        this.#later(this.#duration(), () => cluster.healPartitions());
        return;
      }
      case 'oneWayPartition': {
        const [from, to] = shuffle(this.#random, ids);
        if (from === undefined || to === undefined) return;
        cluster.block(from, to);
        this.#later(this.#duration(), () => cluster.unblock(from, to));
        return;
      }
      case 'crash': {
        const victim = this.#victim();
        if (victim !== null) this.#crash(victim);
        return;
      }
      case 'crashAfterVote':
        this.#crashAfterVoteArmed = true;
        return;
      case 'failedFsync': {
        const victim = this.#victim();
        if (victim !== null) cluster.failNextWrite(victim);
        return;
      }
      case 'slowDisk': {
        const victim = pick(this.#random, ids);
        const syncDelayMsMin = between(this.#random, 0, slowDiskMs.min);
        const syncDelayMsMax = between(this.#random, syncDelayMsMin + 1, slowDiskMs.max);
        cluster.setDiskLatency(victim, { syncDelayMsMin, syncDelayMsMax });
        this.#later(this.#duration(), () => cluster.setDiskLatency(victim, null));
        return;
      }
      case 'isolateLeader': {
        // The clients' leader hint still names it: they keep reading and writing there, unless
        // the hook moves some of them on.
        const leader = cluster.leader();
        if (leader === null) return;
        cluster.isolate(leader.id);
        cluster.faults.add('leader-isolation');
        this.#hooks.onLeaderIsolated?.(leader.id);
        this.#later(this.#duration(), () => cluster.healPartitions());
        return;
      }
      case 'networkChange':
        cluster.setNetworkFaults(drawNetworkFaults(this.#random));
        cluster.faults.add('network-faults');
        return;
      case 'membership':
        if (startRandomMembershipChange(cluster, this.#random) !== null) {
          cluster.faults.add('membership-change');
        }
        return;
    }
  }

  /** A running node to kill, as long as fewer than a majority would then be down. */
  #victim(): NodeId | null {
    const cluster = this.#cluster;
    const up = cluster.ids.filter((id) => cluster.isUp(id));
    const downMax = Math.floor((cluster.ids.length - 1) / 2);
    if (cluster.ids.length - up.length >= downMax) return null;
    return up.length === 0 ? null : pick(this.#random, up);
  }

  #crash(nodeId: NodeId): void {
    this.#cluster.crash(nodeId, { pendingStepsKept: this.#plan.tornTails ? 'random' : 0 });
  }

  #restart(nodeId: NodeId): void {
    if (this.#cluster.hasLiveProcess(nodeId)) return;
    this.#cluster.restart(nodeId);
  }
}
