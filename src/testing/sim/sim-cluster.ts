import { setImmediate as nextTurn } from 'node:timers/promises';
import { RaftError } from '../../core/errors.js';
import type { RandomSource } from '../../core/random.js';
import type { NodeId } from '../../core/types.js';
import type { RaftNode } from '../../node/raft-node.js';
import { SimulatedClock } from '../../node/simulated-clock.js';
import {
  InProcessNetwork,
  type NetworkEvent,
  type NetworkFaults,
} from '../../transport/in-process/index.js';
import type { Message } from '../../transport/transport.js';
import { ClusterCheckers } from '../checkers/cluster-checkers.js';
import { Tracer } from '../trace/tracer.js';
import { ClusterListeners, type SimClusterListener } from './cluster-listener.js';
import { derivedRandom } from './derived-random.js';
import { FaultCounts, type FaultKind } from './fault-counts.js';
import { GatedClock } from './gated-clock.js';
import { NodeEndpoint } from './gated-transport.js';
import { HeldMessages } from './held-messages.js';
import {
  createIncarnation,
  createSlot,
  observedStatus,
  type Incarnation,
  type NodeSlot,
  type ProcessHost,
  type SnapshotCounts,
} from './node-process.js';
import { isPauseTrigger, type ArmedTrigger, type PauseCondition } from './pause-triggers.js';
import {
  runUntilDefaults,
  simClusterDefaults,
  type CrashOptions,
  type DiskLatency,
  type RunUntilOptions,
  type SimClusterOptions,
} from './sim-options.js';
import type { SimStorage } from './sim-storage.js';
import { SimClusterView } from './sim-cluster-view.js';
import { SimTraceRecorder } from './sim-trace-recorder.js';

/**
 * A whole Raft cluster inside one process, on virtual time: real {@link RaftNode} code with a
 * {@link SimulatedClock}, an {@link InProcessNetwork} and a {@link MemoryStorage} per node whose
 * writes become durable only when the simulated disk syncs them. Every random decision derives
 * from one seed, so a run replays exactly. Safety checkers watch every step, and a
 * {@link Tracer} records every send, receive, role change, commit and fault.
 *
 * Its parts live beside it: node slots and their processes (`node-process.ts`), messages held
 * for manual delivery (`held-messages.ts`), trace rows (`sim-trace-recorder.ts`), listeners
 * (`cluster-listener.ts`) and pause triggers (`pause-triggers.ts`).
 *
 * ```ts
 * const cluster = new SimCluster({ seed: 7, stateMachine: () => new KeyValueStateMachine() });
 * await cluster.start();
 * await cluster.runUntil(whenAnyLeader());
 * cluster.crash(cluster.leader()!.id);
 * await cluster.runUntil(whenAnyLeader(), { timeMsMax: 2000 });
 * ```
 */
export class SimCluster<Result = unknown, Query = unknown, Answer = unknown> {
  readonly seed: number;
  readonly ids: readonly NodeId[];
  readonly clock: SimulatedClock;
  readonly network: InProcessNetwork;
  readonly checkers: ClusterCheckers;
  readonly faults = new FaultCounts();
  /** Snapshots taken, sent and installed by every process of the run. */
  readonly snapshots: SnapshotCounts = { taken: 0, sent: 0, installed: 0 };
  readonly tracer: Tracer | null;
  readonly #slots = new Map<NodeId, NodeSlot<Result, Query, Answer>>();
  readonly #faultRandom: RandomSource;
  readonly #listeners = new ClusterListeners();
  readonly #held = new HeldMessages();
  readonly #trace: SimTraceRecorder;
  readonly #host: ProcessHost<Result, Query, Answer>;
  readonly #interceptor: SimClusterOptions<Result, Query, Answer>['interceptor'];
  #steps = 0;
  #lastFired = '';
  #resetEndpointOnCrash: boolean;
  /** Nodes whose code ran in the current step: only their state can have changed. */
  readonly #touched = new Set<NodeId>();

  constructor(options: SimClusterOptions<Result, Query, Answer>) {
    this.seed = options.seed;
    this.ids = nodeIdsOf(options.nodes ?? simClusterDefaults.nodes);
    this.clock = new SimulatedClock();
    this.checkers = new ClusterCheckers({
      now: () => this.clock.now(),
      cluster: new SimClusterView(this.#slots),
    });
    this.tracer =
      options.tracer === undefined
        ? new Tracer({ rowsMax: simClusterDefaults.traceRowsMax })
        : options.tracer;
    this.#trace = new SimTraceRecorder(this.tracer, {
      now: () => this.clock.now(),
      stateOf: (nodeId) => this.#traceState(nodeId),
    });
    this.#interceptor = options.interceptor;
    this.#resetEndpointOnCrash = options.inFlightSurvivesCrash !== true;
    this.#faultRandom = this.random('crash');
    this.#host = {
      options,
      ids: this.ids,
      clock: this.clock,
      checkers: this.checkers,
      trace: this.#trace,
      diskRandom: this.random('disk'),
      faultRandom: this.#faultRandom,
      random: (purpose) => this.random(purpose),
      timerFired: (nodeId, label) => {
        this.#lastFired = label;
        this.#touched.add(nodeId);
      },
      received: (nodeId, message) => {
        this.#touched.add(nodeId);
        this.#trace.received(nodeId, message);
      },
      snapshotCounts: this.snapshots,
      writeFailed: (incarnation) => {
        incarnation.storageFailed = true;
        const slot = this.#slot(incarnation.node.id);
        slot.disk = incarnation.storage.survivor ?? slot.disk;
        this.#kill(incarnation);
        this.#trace.note(slot.id, 'write failed: the process stops');
      },
    };
    const networkClock = new GatedClock({
      inner: this.clock,
      label: 'network',
      onFire: (label) => {
        this.#lastFired = label;
      },
    });
    this.network = new InProcessNetwork({
      clock: networkClock,
      random: this.random('network'),
      ...(options.network === undefined ? {} : { faults: options.network }),
      onEvent: (event) => this.#onNetworkEvent(event),
    });
    this.network.setInterceptor((message) => this.#intercept(message));
    for (const id of this.ids) {
      this.#slots.set(id, createSlot(id, new NodeEndpoint(this.network.transport()), options));
    }
  }

  /** A random source derived from the seed and `purpose`, independent of every other one. */
  random(purpose: string): RandomSource {
    return derivedRandom(this.seed, purpose);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.#steps;
  }

  /** What the last step ran: `tick`, `disk`, `network`, `client`, … */
  get lastStepLabel(): string {
    return this.#lastFired;
  }

  /** Starts every node and runs until all have started (first boot writes need the disk). */
  async start(options: RunUntilOptions = {}): Promise<void> {
    const starts = this.ids.map((id) => this.#launch(id));
    await this.settle(Promise.all(starts), options);
  }

  /** The current process of `nodeId`, running or not; throws if it never started. */
  node(nodeId: NodeId): RaftNode<Result, Query, Answer> {
    const current = this.#slot(nodeId).current;
    if (current === null) {
      throw new RaftError('STOPPED', `node ${nodeId} has no running process (crashed?)`);
    }
    return current.node;
  }

  /** The user's state machine in the current process of `nodeId`. */
  stateMachine(nodeId: NodeId): unknown {
    const current = this.#slot(nodeId).current;
    return current === null ? null : current.stateMachine.inner;
  }

  /** Whether `nodeId` has a live, running process. */
  isUp(nodeId: NodeId): boolean {
    const current = this.#slot(nodeId).current;
    return current !== null && current.alive && current.node.running;
  }

  /** Whether `nodeId` has a process that has not crashed (it may still be starting). */
  hasLiveProcess(nodeId: NodeId): boolean {
    const current = this.#slot(nodeId).current;
    return current !== null && current.alive;
  }

  /** The running leader with the highest term, or null. */
  leader(): RaftNode<Result, Query, Answer> | null {
    let best: RaftNode<Result, Query, Answer> | null = null;
    let bestTerm = -1;
    for (const id of this.ids) {
      if (!this.isUp(id)) continue;
      const node = this.node(id);
      if (node.role !== 'leader') continue;
      const term = node.status().term;
      if (term > bestTerm) {
        best = node;
        bestTerm = term;
      }
    }
    return best;
  }

  /** The log `nodeId`'s storage holds (including writes not yet synced). */
  log(nodeId: NodeId): SimStorage['log'] {
    const current = this.#slot(nodeId).current;
    if (current === null) throw new RaftError('STOPPED', `node ${nodeId} is not running`);
    return current.storage.log;
  }

  /** Calls `listener`'s hooks until the returned function is called. */
  listen(listener: SimClusterListener): () => void {
    return this.#listeners.add(listener);
  }

  // ---- running -------------------------------------------------------------------------------

  /**
   * Fires the next timer (a tick, a message delivery, a disk sync, …), lets the promise chains it
   * started settle, then runs the per-step checks. Returns false when nothing is scheduled.
   */
  async step(): Promise<boolean> {
    if (!this.clock.step()) return false;
    this.#steps++;
    // A macrotask boundary: every microtask the timer set off (storage, apply, resolve) runs first.
    await nextTurn();
    this.#afterStep();
    return true;
  }

  /** Runs steps for `ms` of virtual time. */
  async runFor(ms: number, options: { stepsMax?: number } = {}): Promise<void> {
    const until = this.clock.now() + ms;
    const stepsMax = options.stepsMax ?? runUntilDefaults.stepsMax;
    // Work started outside a step (a restart, a proposal) runs even if no timer falls due.
    await nextTurn();
    for (let step = 0; step < stepsMax; step++) {
      const next = this.clock.nextDeadline();
      if (next === null || next > until) break;
      await this.step();
    }
    if (this.clock.now() < until) this.clock.advance(until - this.clock.now(), 0);
  }

  /**
   * Runs steps until `condition` holds (a pause trigger or a function), checking before each.
   * Rejects with `TIMEOUT` after `timeMsMax` of virtual time or `stepsMax` steps.
   */
  async runUntil(condition: PauseCondition<this>, options: RunUntilOptions = {}): Promise<void> {
    const timeMsMax = options.timeMsMax ?? runUntilDefaults.timeMsMax;
    const stepsMax = options.stepsMax ?? runUntilDefaults.stepsMax;
    let reached: () => boolean;
    let armed: ArmedTrigger | null = null;
    if (isPauseTrigger(condition)) {
      const trigger = condition.arm(this);
      armed = trigger;
      reached = () => trigger.reached();
    } else {
      reached = () => condition(this);
    }
    const startMs = this.clock.now();
    try {
      for (let step = 0; step <= stepsMax; step++) {
        if (reached()) return;
        if (this.clock.now() - startMs > timeMsMax || step === stepsMax) break;
        if (!(await this.step())) break;
      }
    } finally {
      armed?.disarm();
    }
    const description = isPauseTrigger(condition) ? condition.description : 'condition';
    throw new RaftError(
      'TIMEOUT',
      `${description} not reached within ${timeMsMax} ms of virtual time (${stepsMax} steps max)`,
    );
  }

  /** Runs steps until `promise` settles, then returns its outcome. */
  async settle<T>(promise: Promise<T>, options: RunUntilOptions = {}): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    // Observed now; the caller sees the outcome through the returned promise.
    tracked.catch(() => undefined);
    await nextTurn();
    await this.runUntil(() => done, options);
    return tracked;
  }

  // ---- faults --------------------------------------------------------------------------------

  /** Cuts every link between the groups, both ways. */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    this.network.partition(...groups);
    this.#faultRow(
      'partition',
      groups[0]?.[0] ?? '',
      groups.map((group) => group.join(',')).join(' | '),
    );
  }

  /** Cuts `nodeId` off from everyone, both ways. */
  isolate(nodeId: NodeId): void {
    this.partition(
      [nodeId],
      this.ids.filter((id) => id !== nodeId),
    );
  }

  /** Cuts the link from `from` to `to` only (a one-way partition). */
  block(from: NodeId, to: NodeId): void {
    this.network.block(from, to);
    this.#faultRow('one-way-partition', from, `${from} -/-> ${to}`);
  }

  /** Restores the link from `from` to `to` cut by {@link block}. */
  unblock(from: NodeId, to: NodeId): void {
    this.network.unblock(from, to);
    this.#trace.note(from, `link ${from} -> ${to} restored`);
  }

  /** Restores every link cut by {@link partition}, {@link isolate} or {@link block}. */
  healPartitions(): void {
    this.network.heal();
    this.#trace.note('network', 'partitions healed');
  }

  /** Restores every cut link and sets random faults back to none; disks become fast again. */
  heal(): void {
    this.network.heal();
    this.network.setFaults({
      dropRate: 0,
      duplicateRate: 0,
      reorderRate: 0,
      delayMsMin: 0,
      delayMsMax: 1,
    });
    for (const slot of this.#slots.values()) slot.diskLatency = slot.baseDiskLatency;
    this.#trace.note('heal', 'network healed, random faults off');
  }

  /** Changes the random network faults. */
  setNetworkFaults(faults: Partial<NetworkFaults>): void {
    this.network.setFaults(faults);
    this.#trace.note('network', JSON.stringify(faults));
  }

  /**
   * Makes `nodeId`'s disk slow: writes take this long to become durable. `null` restores the
   * latency the options gave.
   */
  setDiskLatency(nodeId: NodeId, latency: DiskLatency | null): void {
    const slot = this.#slot(nodeId);
    slot.diskLatency = latency ?? slot.baseDiskLatency;
    if (latency !== null && latency.syncDelayMsMax > slot.baseDiskLatency.syncDelayMsMax) {
      this.#faultRow(
        'slow-disk',
        nodeId,
        `sync ${latency.syncDelayMsMin}-${latency.syncDelayMsMax} ms`,
      );
    }
  }

  /** Makes `nodeId`'s next write fail like a failed fsync: its process stops. */
  failNextWrite(nodeId: NodeId): void {
    const current = this.#alive(nodeId);
    current.storage.inner.failNextWrite();
    this.#faultRow('failed-fsync', nodeId, 'next write fails');
  }

  /**
   * Kills `nodeId`'s process at once: its timers, network endpoint and unsynced writes are gone
   * (except `pendingStepsKept` of them, a torn tail). Its pending callers never hear back.
   */
  crash(nodeId: NodeId, options: CrashOptions = {}): void {
    const slot = this.#slot(nodeId);
    const current = this.#alive(nodeId);
    const pending = current.storage.inner.pendingStepCount;
    const requested = options.pendingStepsKept ?? 0;
    const kept =
      requested === 'random'
        ? Math.floor(this.#faultRandom() * (pending + 1))
        : Math.min(requested, pending);
    slot.disk = current.storage.survivor ?? current.storage.inner.crash({ pendingStepsKept: kept });
    this.#kill(current);
    this.#faultRow(
      kept > 0 ? 'torn-tail-crash' : 'crash',
      nodeId,
      `kept ${kept} of ${pending} unsynced write steps`,
    );
  }

  /** Starts a new process for `nodeId` on the disk its last one left (after a crash or failure). */
  restart(nodeId: NodeId): RaftNode<Result, Query, Answer> {
    const slot = this.#slot(nodeId);
    if (slot.current !== null && slot.current.alive) {
      throw new RaftError('INVALID_CONFIG', `node ${nodeId} is still running; crash it first`);
    }
    if (slot.current !== null) {
      // The process stopped by itself (a failed write); its disk is what the failure left.
      slot.disk = slot.current.storage.survivor ?? slot.disk;
      this.#kill(slot.current);
    }
    this.#faultRow('restart', nodeId, `incarnation ${slot.incarnations + 1}`);
    void this.#launch(nodeId).catch((error: unknown) => {
      this.checkers.log.report('node-failure', `${nodeId} failed to restart: ${String(error)}`);
    });
    return this.node(nodeId);
  }

  // ---- manual delivery -----------------------------------------------------------------------

  /**
   * Holds back every message `filter` accepts (all when omitted) instead of sending it, until
   * {@link deliverHeld} or {@link dropHeld}. With `null`, stops holding new messages; those already
   * held stay held.
   */
  holdMessages(filter: ((message: Message) => boolean) | null = () => true): void {
    this.#held.setFilter(filter);
  }

  /** The messages held back so far, oldest first. */
  heldMessages(): readonly Message[] {
    return this.#held.messages();
  }

  /** Sends the held messages `filter` accepts (all by default) on through the network. */
  deliverHeld(filter: (message: Message) => boolean = () => true): number {
    return this.#held.release(filter, (message) => {
      const current = this.#slot(message.from).current;
      if (current !== null && current.alive) current.transport.send(message);
    });
  }

  /** Forgets the held messages `filter` accepts (all by default), as if the network lost them. */
  dropHeld(filter: (message: Message) => boolean = () => true): number {
    return this.#held.take(filter).length;
  }

  // ---- tracing -------------------------------------------------------------------------------

  /** Adds a `client` row for `nodeId` to the trace. */
  traceClient(nodeId: NodeId, message: string, detail?: string): void {
    this.#trace.record({
      node: nodeId,
      event: 'client',
      message,
      ...(detail === undefined ? {} : { detail }),
    });
  }

  /** Adds a `note` row to the trace. */
  traceNote(nodeId: NodeId, message: string): void {
    this.#trace.note(nodeId, message);
  }

  // ---- internals -----------------------------------------------------------------------------

  #slot(nodeId: NodeId): NodeSlot<Result, Query, Answer> {
    const slot = this.#slots.get(nodeId);
    if (slot === undefined)
      throw new RaftError('INVALID_CONFIG', `no node ${nodeId} in the cluster`);
    return slot;
  }

  #alive(nodeId: NodeId): Incarnation<Result, Query, Answer> {
    const current = this.#slot(nodeId).current;
    if (current === null || !current.alive) {
      throw new RaftError('STOPPED', `node ${nodeId} has no live process`);
    }
    return current;
  }

  /**
   * Builds a process for `nodeId` on its disk and starts it. The process becomes the node's current
   * one at once, before anything is awaited, so a second restart in the same turn sees it.
   */
  async #launch(nodeId: NodeId): Promise<void> {
    const slot = this.#slot(nodeId);
    const incarnation = createIncarnation(slot, this.#host);
    slot.current = incarnation;
    const { storage, stateMachine, node } = incarnation;
    await storage.load();
    // What the disk and a durable state machine promise: the commit index may not start below.
    const floor = Math.max(
      storage.lastHardState?.commit ?? 0,
      (await stateMachine.appliedIndex?.()) ?? 0,
    );
    await node.start();
    if (!incarnation.alive) return;
    const status = node.status();
    incarnation.observed = observedStatus(status);
    this.checkers.commitMonotonic.observeRestart(nodeId, status.commitIndex, floor);
    this.#trace.note(nodeId, `started (incarnation ${incarnation.number})`);
  }

  /** Ends a process: timers, endpoint and callers are cut off for good. */
  #kill(incarnation: Incarnation<Result, Query, Answer>): void {
    if (!incarnation.alive) return;
    incarnation.alive = false;
    incarnation.clock.close();
    void incarnation.transport.close(this.#resetEndpointOnCrash);
    const id = incarnation.node.id;
    this.checkers.leaderGone(id);
    this.#listeners.processDied(id);
  }

  #intercept(message: Message): Message | null {
    const intercepted = this.#interceptor === undefined ? message : this.#interceptor(message);
    if (intercepted === null) return null;
    const fate = this.#held.intercept(intercepted);
    if (fate === 'held') this.#trace.held(intercepted);
    return fate === 'pass' ? intercepted : null;
  }

  #onNetworkEvent(event: NetworkEvent): void {
    if (event.kind === 'send') {
      this.checkers.messageSent(event.message);
      this.#listeners.sent(event.message);
    } else if (event.kind === 'drop') {
      if (event.reason === 'filtered' && this.#held.holding) return;
      if (event.reason === 'random') this.faults.add('message-loss');
    }
    this.#trace.networkEvent(event);
  }

  /**
   * The per-step checks. `status()` is not cheap, so only nodes whose code ran in this step are
   * read: no other node's state can have changed.
   */
  #afterStep(): void {
    for (const nodeId of this.#touched) {
      const slot = this.#slot(nodeId);
      const current = slot.current;
      if (current === null || !current.alive || !current.node.running) continue;
      const status = current.node.status();
      const lastCommit = current.observed?.commitIndex ?? 0;
      current.observed = observedStatus(status);
      if (status.commitIndex > lastCommit) {
        this.#trace.record({
          node: slot.id,
          event: 'commit',
          message: `commit=${status.commitIndex}`,
        });
      }
    }
    this.checkers.serversChanged(this.#touched);
    this.#touched.clear();
  }

  /** Counts a fault and records it in the trace. */
  #faultRow(kind: FaultKind, nodeId: NodeId, detail: string): void {
    this.faults.add(kind);
    this.#trace.fault(kind, nodeId, detail);
  }

  /**
   * A node's state for the trace, from cheap reads only (a row is recorded for every message):
   * the role getter, the storage's log, and term and commit as read at the end of its last step.
   */
  #traceState(nodeId: NodeId) {
    const current = this.#slots.get(nodeId)?.current;
    if (current === null || current === undefined) return null;
    return {
      role: current.alive ? current.node.role : 'down',
      term: current.observed?.term ?? 0,
      lastIndex: current.storage.log.lastIndex,
      commit: current.observed?.commitIndex ?? 0,
    };
  }
}

function nodeIdsOf(nodes: number | readonly NodeId[]): readonly NodeId[] {
  if (typeof nodes !== 'number') return [...nodes];
  if (!Number.isInteger(nodes) || nodes < 1) {
    throw new RaftError('INVALID_CONFIG', `nodes must be a positive integer, got ${nodes}`);
  }
  return Array.from({ length: nodes }, (_, position) => `n${position + 1}`);
}
