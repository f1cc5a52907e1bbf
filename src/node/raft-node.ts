import {
  RaftError,
  RaftCore,
  type NodeId,
  type PlacedProposals,
  type ProposalPlacement,
  type RaftMessage,
  type Ready,
  type Role,
  type SoftState,
} from '../core/index.js';
import type { Message, SessionTag } from '../transport/transport.js';
import { realClock } from '../platform/clock.js';
import { nodeTicker, type Ticker } from './ticker.js';
import { ClusterChanges, type LeaderAccess } from './cluster-changes.js';
import { MembershipRuntime } from './membership-runtime.js';
import { EntryApplier, waitWhile } from './entry-applier.js';
import { applyReadies } from './apply-stage.js';
import { ForwardClient } from './forward-client.js';
import { ForwardServer } from './forward-server.js';
import { NodeCounters } from './node-counters.js';
import { cancelledError, cancelledInLog, stoppedError, toRaftError } from './node-errors.js';
import { NodeEventPublisher } from './node-events.js';
import {
  resolveNodeOptions,
  type RaftNodeOptions,
  type ResolvedNodeOptions,
} from './node-options.js';
import { nodeStatus, type NodeStatus } from './node-status.js';
import { ProposalPipeline } from './proposal-pipeline.js';
import { proposeBatch } from './propose-batch.js';
import { ReadCoordinator } from './read-coordinator.js';
import { ReadyLoop } from './ready-loop.js';
import { RequestGate, type NodeView } from './request-gate.js';
import { findOptionsError, noOptions, type CommandOptions } from './request-options.js';
import type { ProposeOptions, ReadOptions } from './request-options.js';
import { sessionStamper, sessionTagOf } from './session-envelope.js';
import { ClusterMethods } from './cluster-methods.js';
import { closeStorage, restoreCore } from './restore-core.js';
import { Snapshots } from './snapshots.js';
import { waitForLeader } from './leader-wait.js';
import { ReadyPipeline } from './ready-pipeline.js';
import { jsonResultCodec } from './state-machine.js';

/** In `closing` the stop's drain is over: writes and applies under way finish, nothing new. */
type Lifecycle = 'new' | 'starting' | 'running' | 'stopping' | 'closing' | 'stopped';
type ProposedCommands = Parameters<RaftCore['propose']>[0];

/**
 * One Raft server inside an application: it drives a {@link RaftCore} with real (or simulated)
 * time, persists through a {@link LogStorage}, talks through a {@link Transport} and applies
 * committed commands to the application's {@link StateMachine}.
 *
 * This file holds the public API, the lifecycle and the Ready loop; the data path lives beside it:
 * `ProposalPipeline` (leader writes), `ForwardClient`/`ForwardServer` (writes made on followers),
 * `ReadCoordinator` (reads), `EntryApplier` (the state machine and the session table),
 * `node-errors` (what callers get), `MembershipRuntime` (membership changes, their events,
 * joining; API in `MembershipMethods`), settings, leadership and sessions (API in `ClusterMethods`).
 *
 * ```ts
 * const node = new RaftNode({ id: 'a', storage, transport, stateMachine, initialConfiguration: ['a', 'b', 'c'] });
 * await node.start();
 * const result = await node.propose(new TextEncoder().encode('increment'));
 * ```
 */
export class RaftNode<
  Result = unknown,
  Query = unknown,
  Answer = unknown,
> extends ClusterMethods<Result> {
  // Internals are typed with `unknown` so that a RaftNode<number> is usable where a RaftNode (of
  // unknown results) is expected; the public methods restore the types at the edge.
  readonly #options: ResolvedNodeOptions<unknown, unknown, unknown>;
  #core: RaftCore | null = null;
  #lifecycle: Lifecycle = 'new';
  readonly #ticker: Ticker;
  readonly #loop = new ReadyLoop(() => this.#drainReady());
  readonly #pipeline: ReadyPipeline;
  readonly #counters = new NodeCounters();
  readonly #proposals: ProposalPipeline;
  readonly #forwards: ForwardClient;
  readonly #forwardServer: ForwardServer;
  readonly #reads: ReadCoordinator;
  readonly #applier: EntryApplier;
  readonly #gate: RequestGate;
  readonly #events: NodeEventPublisher;
  readonly #changes: ClusterChanges;
  readonly #snapshots: Snapshots;
  readonly #membership: MembershipRuntime;
  #transportStart: Promise<void> | null = null;
  #softState: SoftState = { role: 'follower', term: 0, leaderId: null };
  #fatal: RaftError | null = null;
  #stopped: Promise<void> = Promise.resolve();

  constructor(options: RaftNodeOptions<Result, Query, Answer>) {
    super((error) => this.#events.listenerFailed(toRaftError(error)), options.clock ?? realClock);
    this.#options = resolveNodeOptions(
      options as RaftNodeOptions<unknown, unknown, unknown>,
      realClock,
      jsonResultCodec,
    );
    const { id, proposalBatchMax } = this.#options;
    const counters = this.#counters;
    this.#ticker = nodeTicker(this.#options, (ticks) => this.#onTicks(ticks));
    this.#events = new NodeEventPublisher({
      nodeId: id,
      emit: (event, payload) => this.emit(event, payload),
      counters,
    });
    this.#gate = new RequestGate({ ...this.#options, counters });
    this.#proposals = new ProposalPipeline({
      ...{ batchMax: proposalBatchMax, core: this.#options.core },
      log: { append: (commands) => this.#appendProposals(commands) },
      stampSession: sessionStamper(this.#options),
    });
    this.#forwards = new ForwardClient({
      ...this.#options,
      batchMax: proposalBatchMax,
      // Request ids start at a random point so a restarted follower does not reuse recent ones.
      firstRequestId: Math.floor(this.#options.random() * 2 ** 40),
      leader: () => this.#forwardTarget(),
    });
    this.#forwardServer = new ForwardServer({
      ...this.#options,
      counters,
      leaderId: () => this.#core?.leaderId ?? null,
    });
    this.#reads = new ReadCoordinator({
      requestReadIndex: (context) => this.#requestReadIndex(context),
      stateMachine: this.#options.stateMachine,
      random: this.#options.random,
    });
    this.#applier = new EntryApplier({ ...this.#options, policy: this.#options, counters });
    const node: LeaderAccess = {
      id,
      leader: () => this.#gate.requireLeader(this.#view) ?? this.#core!,
      schedule: () => this.#schedule(),
      events: this,
    };
    this.#changes = new ClusterChanges({ node, gate: this.#gate, proposals: this.#proposals });
    const publisher = this.#events;
    this.#snapshots = new Snapshots({
      ...{ ...this.#options, counters, applier: this.#applier, events: this.#events },
      ...{ core: () => this.#core, schedule: () => this.#schedule() },
      skippedThrough: (index) => this.#proposals.skippedThrough(index),
      fail: (error) => this.#fail(error),
    });
    this.#membership = new MembershipRuntime({ ...this.#options, ...node, counters, publisher });
    const listeners = {
      ...{ applier: this.#applier, snapshots: this.#snapshots, proposals: this.#proposals },
      ...{ membership: this.#membership, events: this.#events, reads: this.#reads },
      notLeader: () => this.#notLeader(),
    };
    this.#pipeline = new ReadyPipeline({
      ...{ storage: this.#options.storage, counters, fail: (error) => this.#fail(error) },
      send: (message) => this.#options.transport.send(message),
      ...{ durable: (ready) => this.#onDurable(ready), stableIndex: () => this.#core!.stableIndex },
      apply: (readies) => applyReadies(listeners, readies),
    });
  }

  protected override get membershipRuntime(): MembershipRuntime {
    return this.#membership;
  }

  protected override get clusterChanges(): ClusterChanges {
    return this.#changes;
  }

  /** Snapshots the state machine now, on any server (a leader keeps leading): docs/snapshots.md. */
  snapshot(): ReturnType<Snapshots['request']> {
    if (this.running) return this.#snapshots.request();
    return Promise.reject(stoppedError(`node ${this.id} is not running`));
  }

  /** This server's id. */
  get id(): NodeId {
    return this.#options.id;
  }

  /** The role right now; `follower` before start. */
  get role(): Role {
    return this.#softState.role;
  }

  /** The leader this server follows, if known (after joining: the one the contact named). */
  get leaderId(): NodeId | null {
    return this.#softState.leaderId ?? this.#membership.joinAnswer?.leaderId ?? null;
  }

  /** Whether the node is started and not stopped. */
  get running(): boolean {
    return this.#lifecycle === 'running';
  }

  /**
   * Opens storage (bootstrapping it on first boot), restores the core, and starts the transport
   * and the clock. Rejects with `APPLY_FAILED` if storage was marked broken by a failed apply.
   */
  async start(): Promise<void> {
    if (this.#lifecycle !== 'new') {
      throw new RaftError('INVALID_CONFIG', `start() called on a node that is ${this.#lifecycle}`);
    }
    this.#lifecycle = 'starting';
    try {
      const options = { ...this.#options, sessions: this.#applier.sessions };
      const restored = await restoreCore(options, () => this.#membership.join(() => this.#start()));
      const core = (this.#core = restored.core);
      this.#membership.restored(core);
      this.#applier.restore(restored.appliedIndex);
      this.#softState = { role: core.role, term: core.term, leaderId: core.leaderId };
      await this.#start();
      // A stop meanwhile has recorded a clean stop and closed storage: go no further.
      if (this.#lifecycle !== 'starting') throw stoppedError(`${this.id} stopped while starting`);
    } catch (error) {
      this.#lifecycle = 'stopped';
      if (this.#transportStart !== null) await this.#options.transport.stop().catch(() => null);
      await closeStorage(this.#options.storage, { stoppedSending: false });
      throw error;
    }
    this.#lifecycle = 'running';
    this.#ticker.start();
    this.#schedule();
  }

  /** Starts the transport once: a joining server starts it early, to ask the cluster. */
  #start(): Promise<void> {
    const receive = (message: Message): void => this.#receive(message);
    return (this.#transportStart ??= this.#options.transport.start(this.id, receive));
  }

  /**
   * Replicates `command` and resolves with the state machine's result for it, once committed and
   * applied. Rejects with `NOT_LEADER` (with `details.leaderId`) on a follower unless
   * `forwardProposals` is on, `NO_LEADER` during an election, `OUTCOME_UNKNOWN` when the command
   * reached the log but its fate could not be learned in time. With `options.session` it applies
   * at most once per session and sequence (docs/sessions.md; `openSession` does the numbering).
   * The bytes become the log entry's as they are, without a copy: do not change them afterwards.
   */
  propose(command: Uint8Array, options: CommandOptions = noOptions): Promise<Result> {
    return this.submit(command, options, sessionTagOf(options.session)) as Promise<Result>;
  }

  protected override submit(command: Uint8Array, options: CommandOptions, tag?: SessionTag) {
    const refusal = findOptionsError(options) ?? this.#gate.requireLeader(this.#view);
    if (refusal === null) return this.#proposeLocally(command, options, tag);
    if (refusal.code !== 'NOT_LEADER' || !this.#options.forwardProposals) {
      return Promise.reject(refusal);
    }
    this.#counters.proposalsForwarded++;
    return this.#forwards.enqueue(this.#gate.proposal(command, options, tag));
  }

  protected override submitBatch(commands: readonly Uint8Array[], options: ProposeOptions) {
    const node = { gate: this.#gate, view: this.#view, counters: this.#counters };
    return proposeBatch({ ...node, proposals: this.#proposals }, this.#options, commands, options);
  }

  /** The leader's write path, for its own callers and for commands forwarded to it. */
  #proposeLocally(command: Uint8Array, options: ProposeOptions, tag?: SessionTag) {
    this.#counters.proposals++;
    return this.#proposals.enqueue(this.#gate.proposal(command, options, tag));
  }

  /** What the request gate needs to know about this node right now. */
  get #view(): NodeView {
    const pending =
      this.#proposals.pendingCount + this.#forwards.pendingCount + this.#reads.pendingCount;
    return { running: this.#lifecycle === 'running', pending, core: this.#core };
  }

  #notLeader(): RaftError {
    return this.#gate.notLeader(this.#core);
  }

  /** Where the pipeline appends a turn's proposals: the core, while this node runs and leads. */
  #appendProposals(commands: ProposedCommands): PlacedProposals | RaftError {
    const core = this.#takingRequests();
    if (core instanceof RaftError) return core;
    let placement: ProposalPlacement;
    try {
      placement = core.propose(commands);
    } catch (error) {
      return toRaftError(error);
    }
    if (placement.placed) this.#schedule();
    else if (placement.error.code === 'NOT_LEADER') return this.#notLeader();
    return placement.placed ? placement : placement.error;
  }

  /** Where a follower's turn of proposals goes: the leader it knows, while it runs. */
  #forwardTarget(): NodeId | RaftError {
    const core = this.#takingRequests();
    if (core instanceof RaftError) return core;
    const leaderId = core.leaderId;
    return leaderId === null || leaderId === this.id ? this.#notLeader() : leaderId;
  }

  /** The core while the node runs; `STOPPED` once a turn's batch finds it stopping. */
  #takingRequests(): RaftCore | RaftError {
    if (this.#core === null || this.#lifecycle !== 'running') {
      return stoppedError(`node ${this.id} stopped before the request was sent`);
    }
    return this.#core;
  }

  /**
   * Answers `query` from the state machine at the requested consistency (default linearizable).
   * Reads never write to the log. Rejects with `NO_LEADER`/`NOT_LEADER` (transient) when
   * leadership cannot be confirmed, `TIMEOUT` or `ABORTED` as for proposals.
   */
  read(query: Query, options: ReadOptions = noOptions): Promise<Answer> {
    const refusal =
      findOptionsError(options) ?? this.#gate.admit(this.#view) ?? this.#reads.unsupported;
    if (refusal !== null) return Promise.reject(refusal);
    this.#counters.reads++;
    const consistency = options.consistency ?? 'linearizable';
    // The state machine's query returns an Answer; internals carry it as unknown.
    if (consistency === 'stale') return this.#reads.serve(query) as Promise<Answer>;
    const request = this.#gate.request<unknown>(options, (reason) =>
      cancelledError(reason, 'read'),
    );
    const leaseIndex = consistency === 'lease' ? this.#core!.leaseReadIndex() : null;
    this.#reads.read({ query, request }, leaseIndex, this.#applier.appliedIndex);
    return request.promise as Promise<Answer>;
  }

  /** Starts a read confirmation round for one turn of reads, or says why it cannot. */
  #requestReadIndex(context: number): RaftError | null {
    const core = this.#takingRequests();
    if (core instanceof RaftError) return core;
    try {
      core.readIndex(context);
    } catch (error) {
      return toRaftError(error);
    }
    this.#schedule();
    return null;
  }

  /**
   * Resolves with the leader's id as soon as this server knows one (at once if it does already).
   * Rejects with `TIMEOUT`, `ABORTED` or `STOPPED`.
   */
  waitForLeader(options: ProposeOptions = {}): Promise<NodeId> {
    const state = { active: this.#active, known: this.#softState.leaderId, gate: this.#gate };
    return waitForLeader({ id: this.id, events: this }, state, options);
  }

  /** Role, term, leader, indexes, per-peer progress (on the leader) and counters. */
  status(): NodeStatus {
    const { id, running } = this;
    const view = { id, core: this.#core, appliedIndex: this.#applier.appliedIndex, running };
    return nodeStatus(view, this.#options.initialSettings, this.#gate, this.#counters);
  }

  /** Whether the node still takes part in the protocol (it does while draining on stop). */
  get #active(): boolean {
    return this.#lifecycle === 'running' || this.#lifecycle === 'stopping';
  }

  #receive(message: Message): void {
    if (this.#membership.receive(message, this.#active ? this.#core : null)) return;
    if (!this.#active) return;
    this.#counters.messagesReceived++;
    if (message.to !== this.id) {
      this.#counters.messagesRejected++;
      return;
    }
    if (message.type === 'forward-proposal') {
      const refusal = this.#gate.requireLeader(this.#view);
      this.#forwardServer.serve(
        message,
        refusal ?? ((command, tag) => this.#proposeLocally(command, {}, tag)),
      );
    } else if (message.type === 'forward-result') this.#forwards.onResult(message);
    else this.#step(message);
  }

  #step(message: RaftMessage): void {
    try {
      this.#core!.step(message);
    } catch (error) {
      if (error instanceof RaftError && error.code === 'INVALID_MESSAGE') {
        this.#counters.messagesRejected++;
        return;
      }
      this.#fail(toRaftError(error));
      return;
    }
    this.#schedule();
  }

  #onTicks(ticks: number): void {
    if (!this.#active || this.#fatal !== null) return this.#ticker.stop();
    try {
      for (let tick = 0; tick < ticks; tick++) this.#core!.tick();
    } catch (error) {
      this.#ticker.stop();
      return this.#fail(toRaftError(error));
    }
    this.#schedule();
  }

  /** Runs the Ready loop soon (see {@link ReadyLoop}) while the node takes part. */
  #schedule(): void {
    if (this.#core !== null && this.#active) this.#loop.schedule();
  }

  /** One pass: takes Ready values until the core is idle; see {@link ReadyPipeline} for the rest. */
  async #drainReady(): Promise<boolean> {
    const core = this.#core!;
    try {
      while (this.#active && this.#fatal === null) {
        if (this.#snapshots.pending) await this.#pipeline.idle(); // never race a write or apply
        const more = this.#fatal === null && this.#snapshots.maintain(core); // async only if work
        if (more !== true && (more === false || !(await more))) break;
        const ready = core.ready();
        if (ready.softState !== null) this.#onSoftState(ready.softState);
        this.#membership.observe(core); // before its messages leave: listeners add addresses
        for (const message of ready.messages) this.#options.transport.send(message);
        this.#counters.messagesSent += ready.messages.length;
        this.#pipeline.push(ready);
      }
    } catch (error) {
      this.#fail(toRaftError(error));
    }
    // Inputs may have arrived after the last hasReady check.
    return this.#fatal === null && this.#active && (core.hasReady() || this.#snapshots.pending);
  }

  /** A Ready's writes are durable (its after-persist messages have left). */
  #onDurable(ready: Ready): void {
    this.#snapshots.onReady(ready);
    this.#core!.advance(ready);
    if (this.#core!.hasReady()) this.#schedule(); // a pass costs more than asking
  }

  #onSoftState(soft: SoftState): void {
    const previous = this.#softState;
    this.#softState = soft;
    this.#events.softStateChanged(previous, soft);
    if (soft.leaderId !== previous.leaderId) this.#forwards.abandonAllBut(soft.leaderId);
    // Proposals queued while this server led and then lost office are refused, not left hanging.
    if (soft.role !== 'leader') {
      for (const queued of this.#proposals.takeQueued()) queued.reject(this.#notLeader());
    }
  }

  /** A fatal error: stop at once, trust nothing half-done, tell every caller. */
  #fail(error: RaftError): void {
    if (this.#fatal !== null || this.#lifecycle === 'stopped') return;
    this.#fatal = error;
    this.#events.publish('error', { nodeId: this.id, error, fatal: true });
    // A stop under way finishes by itself (without its snapshot); a second one would race it.
    if (this.#lifecycle !== 'stopping' && this.#lifecycle !== 'closing')
      void (this.#stopped = this.#doShutdown(error));
  }

  /**
   * Stops the node: no new requests, proposals already in the log get up to `stopDrainMs` to
   * settle, then the transport and storage close. Idempotent; resolves when everything is closed.
   */
  async stop(): Promise<void> {
    if (this.#lifecycle === 'new') {
      this.#lifecycle = 'stopped';
      return;
    }
    if (this.#lifecycle !== 'running' && this.#lifecycle !== 'starting') return this.#stopped;
    return (this.#stopped = this.#doShutdown(null));
  }

  async #doShutdown(error: RaftError | null): Promise<void> {
    const wasRunning = this.#lifecycle === 'running';
    this.#lifecycle = 'stopping';
    const stopped = (message: string): RaftError => error ?? stoppedError(message);
    for (const queued of [...this.#proposals.takeQueued(), ...this.#forwards.takeQueued()]) {
      queued.reject(stopped('node stopped before the request entered the log'));
    }
    for (const queued of this.#reads.takeAll())
      queued.request.reject(stopped('node stopped before the read was served'));
    const unsettled = (): boolean =>
      this.#proposals.waitingCount > 0 || this.#forwards.inFlightCount > 0;
    if (wasRunning && error === null) await waitWhile(this.#options, unsettled);
    this.#lifecycle = 'closing';
    this.#ticker.stop();
    this.#proposals.failWaiters(error ?? cancelledInLog('stopped'));
    this.#forwards.rejectInFlight(error ?? cancelledInLog('stopped'));
    await this.#options.transport.stop().catch(() => undefined);
    await this.#loop.idle.catch(() => undefined);
    await this.#pipeline.idle();
    await this.#applier.markBroken(); // after the last save: storage calls are never concurrent
    if (wasRunning && this.#fatal === null) await this.#snapshots.onStop(this.#core);
    this.#lifecycle = 'stopped';
    await closeStorage(this.#options.storage, { stoppedSending: true });
    this.#events.publish('stopped', { nodeId: this.id, error });
  }
}
