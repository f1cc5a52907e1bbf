import {
  RaftCore,
  RaftError,
  bootstrapSnapshot,
  emptyConfiguration,
  type ClusterSettings,
  type CoreStatus,
  type Entry,
  type NodeId,
  type ProposalPlacement,
  type RaftMessage,
  type Ready,
  type Role,
  type SoftState,
} from '../core/index.js';
import type { Message, ForwardProposal, ForwardResult } from '../transport/transport.js';
import { realClock, type TimerHandle } from './clock.js';
import { publishDiagnostics, type RaftNodeEvents } from './node-events.js';
import {
  resolveNodeOptions,
  type RaftNodeOptions,
  type ResolvedNodeOptions,
} from './node-options.js';
import {
  PendingRequest,
  cancelledBeforeLog,
  cancelledInLog,
  type CancelReason,
} from './pending-request.js';
import { jsonResultCodec, type ApplyContext } from './state-machine.js';
import { TypedEmitter } from './typed-emitter.js';
import { ForwardDeduplicator } from './forward-deduplicator.js';
import { ForwardClient, type QueuedProposal } from './forward-client.js';
import { ReadCoordinator } from './read-coordinator.js';
import { NodeCounters, type NodeCounterValues } from './node-counters.js';

/** Per-call options of `propose`. */
export interface ProposeOptions {
  /** Rejects with `ABORTED` (or `OUTCOME_UNKNOWN` once the command is in the log) when fired. */
  readonly signal?: AbortSignal;
  /** Overrides the node's `requestTimeoutMs`. */
  readonly timeoutMs?: number;
}

/** How fresh a read must be. */
export type ReadConsistency = 'linearizable' | 'lease' | 'stale';

/** Per-call options of `read`. */
export interface ReadOptions extends ProposeOptions {
  /**
   * `linearizable` (default): reflects every write acknowledged before the read began, confirmed
   * with one heartbeat round (ReadIndex), never a log write. `lease`: the leader skips that round
   * while its CheckQuorum lease holds (assumes bounded clock drift); elsewhere it falls back to
   * `linearizable`. `stale`: this server's state as it is, possibly behind.
   */
  readonly consistency?: ReadConsistency;
}

/** What `status()` reports: the core's view plus the runtime's counters. */
export interface NodeStatus extends CoreStatus {
  readonly appliedIndex: number;
  readonly leaderAddress: string | null;
  readonly running: boolean;
  readonly counters: NodeCounterValues;
}

type Lifecycle = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

interface LogWaiter {
  readonly term: number;
  settle(entry: Entry, result: unknown): void;
  fail(error: RaftError): void;
}

/**
 * One Raft server inside an application: it drives a {@link RaftCore} with real (or simulated)
 * time, persists through a {@link LogStorage}, talks through a {@link Transport} and applies
 * committed commands to the application's {@link StateMachine}.
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
> extends TypedEmitter<RaftNodeEvents> {
  // Internals are typed with `unknown` so that a RaftNode<number> is usable where a RaftNode (of
  // unknown results) is expected; the public methods restore the types at the edge.
  readonly #options: ResolvedNodeOptions<unknown, unknown, unknown>;
  #core: RaftCore | null = null;
  #lifecycle: Lifecycle = 'new';
  #tickTimer: TimerHandle | null = null;
  #loopRunning = false;
  #loopScheduled = false;
  #loopIdle: Promise<void> = Promise.resolve();
  #proposalQueue: QueuedProposal[] = [];
  #proposalFlushScheduled = false;
  readonly #waiters = new Map<number, LogWaiter>();
  readonly #forwards: ForwardClient;
  readonly #deduplicator = new ForwardDeduplicator();
  readonly #reads = new ReadCoordinator({
    requestReadIndex: (context) => this.#core!.readIndex(context),
    appliedIndex: () => this.#appliedIndex,
    query: (query) => this.#serve(query),
    notLeaderError: () => this.#notLeaderError(),
    schedule: () => this.#schedule(),
    active: () => this.#core !== null && this.#active,
    toRaftError,
  });
  #appliedIndex = 0;
  #softState: SoftState = { role: 'follower', term: 0, leaderId: null };
  #fatal: RaftError | null = null;
  readonly #counters = new NodeCounters();

  constructor(options: RaftNodeOptions<Result, Query, Answer>) {
    super((error) => this.#reportListenerError(error));
    this.#options = resolveNodeOptions(
      options as RaftNodeOptions<unknown, unknown, unknown>,
      realClock,
      jsonResultCodec,
    );
    // Request ids start at a random point so a restarted follower does not reuse recent ones.
    this.#forwards = new ForwardClient(
      {
        id: this.#options.id,
        leaderId: () => this.#core?.leaderId ?? null,
        running: () => this.#lifecycle === 'running',
        send: (message) => this.#options.transport.send(message),
        notLeaderError: () => this.#notLeaderError(),
        decodeResult: (bytes) => this.#options.resultCodec.decode(bytes),
        batchMax: this.#options.proposalBatchMax,
      },
      Math.floor(this.#options.random() * 2 ** 40),
    );
  }

  /** This server's id. */
  get id(): NodeId {
    return this.#options.id;
  }

  /** The role right now; `follower` before start. */
  get role(): Role {
    return this.#softState.role;
  }

  /** The leader this server follows, if known. */
  get leaderId(): NodeId | null {
    return this.#softState.leaderId;
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
      this.#core = await this.#restoreCore();
      this.#softState = {
        role: this.#core.role,
        term: this.#core.term,
        leaderId: this.#core.leaderId,
      };
      await this.#options.transport.start(this.id, (message) => this.#receive(message));
    } catch (error) {
      this.#lifecycle = 'stopped';
      await this.#options.storage.close().catch(() => undefined);
      throw error;
    }
    this.#lifecycle = 'running';
    this.#scheduleTick();
    this.#schedule();
  }

  async #restoreCore(): Promise<RaftCore> {
    const { storage, stateMachine } = this.#options;
    let stored = await wrapStorage(() => storage.open());
    if (stored === null) {
      const snapshot = bootstrapSnapshot(
        this.#options.initialConfiguration ?? emptyConfiguration,
        this.#options.initialSettings,
      );
      const hardState = { term: 0, vote: null, commit: 0 };
      await wrapStorage(() => storage.bootstrap(snapshot, hardState));
      stored = { hardState, snapshot, lastIndex: 0, broken: null };
    }
    if (stored.broken !== undefined && stored.broken !== null) {
      throw new RaftError(
        'APPLY_FAILED',
        `storage is marked broken (${stored.broken}); repair the state machine, then clear the mark with clearBrokenMark(storage)`,
        { details: { reason: stored.broken } },
      );
    }
    const entries =
      stored.lastIndex > stored.snapshot.index
        ? await wrapStorage(() => storage.entries(stored.snapshot.index + 1, stored.lastIndex + 1))
        : [];
    const applied = Math.max(stored.snapshot.index, (await stateMachine.appliedIndex?.()) ?? 0);
    this.#appliedIndex = applied;
    return new RaftCore(
      { ...this.#options.core, id: this.id, applied, random: this.#options.random },
      { hardState: stored.hardState, snapshot: stored.snapshot, entries },
    );
  }

  /**
   * Replicates `command` and resolves with the state machine's result for it, once committed and
   * applied. Rejects with `NOT_LEADER` (with `details.leaderId`) on a follower unless
   * `forwardProposals` is on, `NO_LEADER` during an election, `OUTCOME_UNKNOWN` when the command
   * reached the log but its fate could not be learned in time.
   */
  propose(command: Uint8Array, options: ProposeOptions = {}): Promise<Result> {
    const refusal = this.#admissionError();
    if (refusal !== null) return Promise.reject(refusal);
    const core = this.#core!;
    if (core.role !== 'leader') {
      const leaderId = core.leaderId;
      if (this.#options.forwardProposals && leaderId !== null && leaderId !== this.id) {
        return this.#enqueueForward(command, options) as Promise<Result>;
      }
      return Promise.reject(this.#notLeaderError());
    }
    // The state machine is a StateMachine<Result>, so what it returned is a Result.
    return this.#enqueueProposal(command, options) as Promise<Result>;
  }

  #admissionError(): RaftError | null {
    if (this.#lifecycle !== 'running') {
      return new RaftError('STOPPED', `node ${this.id} is not running`, {
        details: { retryable: false },
      });
    }
    const pending =
      this.#proposalQueue.length +
      this.#waiters.size +
      this.#forwards.pendingCount +
      this.#reads.pendingCount;
    if (pending >= this.#options.pendingRequestsMax) {
      return new RaftError('BUSY', `too many pending requests (${pending})`, {
        details: { retryable: true },
      });
    }
    return null;
  }

  #notLeaderError(): RaftError {
    const leaderId = this.#core?.leaderId ?? null;
    if (leaderId === null) {
      return new RaftError('NO_LEADER', 'no leader is known; an election is under way', {
        details: { leaderId: null, retryable: true },
      });
    }
    return new RaftError('NOT_LEADER', `${this.id} is not the leader; ${leaderId} is`, {
      details: { leaderId, leaderAddress: this.#addressOf(leaderId), retryable: true },
    });
  }

  #addressOf(id: NodeId): string | null {
    return this.#core?.configuration.addresses[id] ?? this.#options.addressOf(id);
  }

  #newRequest<T>(options: ProposeOptions, onCancel: (reason: CancelReason) => RaftError) {
    return new PendingRequest<T>({
      clock: this.#options.clock,
      timeoutMs: options.timeoutMs ?? this.#options.requestTimeoutMs,
      signal: options.signal,
      onCancel,
    });
  }

  #enqueueProposal(command: Uint8Array, options: ProposeOptions): Promise<unknown> {
    const queued: QueuedProposal = {
      command,
      placed: false,
      request: this.#newRequest<unknown>(options, (reason) => {
        this.#counters.increment('proposalsCancelled');
        return queued.placed ? cancelledInLog(reason) : cancelledBeforeLog(reason);
      }),
    };
    this.#proposalQueue.push(queued);
    this.#counters.increment('proposals');
    if (!this.#proposalFlushScheduled) {
      this.#proposalFlushScheduled = true;
      // Every proposal made in the same turn joins one batch: one append, one replication round.
      queueMicrotask(() => this.#flushProposals());
    }
    return queued.request.promise;
  }

  #flushProposals(): void {
    this.#proposalFlushScheduled = false;
    const core = this.#core;
    if (core === null || this.#lifecycle !== 'running') return;
    while (this.#proposalQueue.length > 0) {
      const batch = this.#proposalQueue
        .splice(0, this.#options.proposalBatchMax)
        .filter((queued) => !queued.request.settled);
      if (batch.length === 0) continue;
      let placement: ProposalPlacement;
      try {
        placement = core.propose(batch.map((queued) => queued.command));
      } catch (error) {
        const refusal =
          error instanceof RaftError && error.code === 'NOT_LEADER'
            ? this.#notLeaderError()
            : error;
        for (const queued of batch) queued.request.reject(refusal);
        continue;
      }
      batch.forEach((queued, offset) => {
        queued.placed = true;
        this.#waitForEntry(placement.firstIndex + offset, placement.term, queued.request);
      });
    }
    this.#schedule();
  }

  #waitForEntry(index: number, term: number, request: PendingRequest<unknown>): void {
    // A waiter already at this index belongs to an earlier term whose entry was truncated away
    // before it was applied here: this server now leads with a different entry at that index.
    this.#waiters.get(index)?.fail(replacedError(index));
    this.#waiters.set(index, {
      term,
      settle: (entry, result) => {
        if (entry.term === term) request.resolve(result);
        else request.reject(replacedError(index));
      },
      fail: (error) => request.reject(error),
    });
  }

  #enqueueForward(command: Uint8Array, options: ProposeOptions): Promise<unknown> {
    const queued: QueuedProposal = {
      command,
      placed: false,
      // Once sent, the leader may have appended it: its fate is unknown to us.
      request: this.#newRequest<unknown>(options, (reason) =>
        queued.placed ? cancelledInLog(reason) : cancelledBeforeLog(reason),
      ),
    };
    this.#forwards.enqueue(queued);
    this.#counters.increment('proposalsForwarded');
    return queued.request.promise;
  }

  /** The leader's side of forwarding: propose for the follower and send back what its caller gets. */
  #handleForwardProposal(message: ForwardProposal): void {
    if (!this.#deduplicator.firstTime(message.from, message.requestId)) {
      this.#counters.increment('duplicateForwardsIgnored');
      return;
    }
    const reply = (fields: Pick<ForwardResult, 'results' | 'errorCode' | 'errorMessage'>): void =>
      this.#options.transport.send({
        type: 'forward-result',
        from: this.id,
        to: message.from,
        requestId: message.requestId,
        leaderId: this.#core?.leaderId ?? null,
        ...fields,
      });
    const refusal =
      this.#admissionError() ?? (this.role === 'leader' ? null : this.#notLeaderError());
    if (refusal !== null) {
      reply({ results: [], errorCode: refusal.code, errorMessage: refusal.message });
      return;
    }
    const codec = this.#options.resultCodec;
    Promise.all(message.commands.map((command) => this.#enqueueProposal(command, {}))).then(
      (results) =>
        reply({
          results: results.map((result) => codec.encode(result)),
          errorCode: null,
          errorMessage: '',
        }),
      (error: unknown) => {
        const raftError = toRaftError(error);
        reply({ results: [], errorCode: raftError.code, errorMessage: raftError.message });
      },
    );
  }

  /**
   * Answers `query` from the state machine at the requested consistency (default linearizable).
   * Reads never write to the log. Rejects with `NO_LEADER`/`NOT_LEADER` (retryable) when
   * leadership cannot be confirmed, `TIMEOUT` or `ABORTED` as for proposals.
   */
  read(query: Query, options: ReadOptions = {}): Promise<Answer> {
    const refusal = this.#admissionError();
    if (refusal !== null) return Promise.reject(refusal);
    const stateMachine = this.#options.stateMachine;
    if (stateMachine.query === undefined) {
      return Promise.reject(
        new RaftError('INVALID_CONFIG', 'the state machine has no query method'),
      );
    }
    const consistency = options.consistency ?? 'linearizable';
    this.#counters.increment('reads');
    // The state machine's query returns an Answer; internals carry it as unknown.
    if (consistency === 'stale') return this.#serve(query) as Promise<Answer>;
    const leaseIndex = consistency === 'lease' ? this.#core!.leaseReadIndex() : null;
    const queued = {
      query,
      request: this.#newRequest<unknown>(options, (reason) =>
        reason === 'timeout'
          ? new RaftError('TIMEOUT', 'read timed out', { details: { retryable: true } })
          : new RaftError('ABORTED', 'read aborted', { details: { retryable: true } }),
      ),
    };
    if (leaseIndex !== null) this.#reads.awaitApplied(leaseIndex, [queued]);
    else this.#reads.enqueue(queued);
    return queued.request.promise as Promise<Answer>;
  }

  #serve(query: unknown): Promise<unknown> {
    try {
      return Promise.resolve(this.#options.stateMachine.query!(query));
    } catch (error) {
      return Promise.reject(toRaftError(error));
    }
  }

  /**
   * Changes the cluster-wide settings (PreVote, CheckQuorum) through the log. Resolves once the
   * settings entry is applied here. Leader only.
   */
  updateSettings(settings: Partial<ClusterSettings>, options: ProposeOptions = {}): Promise<void> {
    const refusal = this.#admissionError();
    if (refusal !== null) return Promise.reject(refusal);
    const core = this.#core!;
    if (core.role !== 'leader') return Promise.reject(this.#notLeaderError());
    const request = this.#newRequest<unknown>(options, cancelledInLog);
    try {
      const placement = core.proposeSettings({ ...core.status().settings, ...settings });
      this.#waitForEntry(placement.firstIndex, placement.term, request);
    } catch (error) {
      request.reject(error);
    }
    this.#schedule();
    return request.promise.then(() => undefined);
  }

  /** Hands leadership to `target`; resolves when `target` leads, rejects with `TIMEOUT` otherwise. */
  transferLeadership(target: NodeId, options: ProposeOptions = {}): Promise<void> {
    const refusal = this.#admissionError();
    if (refusal !== null) return Promise.reject(refusal);
    const core = this.#core!;
    if (core.role !== 'leader') return Promise.reject(this.#notLeaderError());
    try {
      core.transferLeadership(target);
    } catch (error) {
      return Promise.reject(toRaftError(error));
    }
    this.#schedule();
    if (target === this.id) return Promise.resolve();
    const request = this.#newRequest<void>(options, (reason) =>
      reason === 'timeout'
        ? new RaftError('TIMEOUT', `leadership did not move to ${target} in time`)
        : new RaftError('ABORTED', 'leadership transfer wait aborted'),
    );
    const unsubscribe = this.on('leader', ({ leaderId }) => {
      if (leaderId === target) request.resolve();
    });
    void request.promise.then(unsubscribe, unsubscribe);
    return request.promise;
  }

  /**
   * Resolves with the leader's id as soon as this server knows one (at once if it does already).
   * Rejects with `TIMEOUT`, `ABORTED` or `STOPPED`.
   */
  waitForLeader(options: ProposeOptions = {}): Promise<NodeId> {
    if (!this.#active) {
      return Promise.reject(new RaftError('STOPPED', `node ${this.id} is not running`));
    }
    const known = this.#softState.leaderId;
    if (known !== null) return Promise.resolve(known);
    const request = this.#newRequest<NodeId>(options, (reason) =>
      reason === 'timeout'
        ? new RaftError('TIMEOUT', 'no leader was elected in time', {
            details: { retryable: true },
          })
        : new RaftError('ABORTED', 'wait for a leader aborted'),
    );
    const unsubscribeLeader = this.on('leader', ({ leaderId }) => {
      if (leaderId !== null) request.resolve(leaderId);
    });
    const unsubscribeStop = this.on('stopped', () =>
      request.reject(new RaftError('STOPPED', `node ${this.id} stopped`)),
    );
    const cleanup = (): void => {
      unsubscribeLeader();
      unsubscribeStop();
    };
    void request.promise.then(cleanup, cleanup);
    return request.promise;
  }

  /** Role, term, leader, indexes, per-peer progress (on the leader) and counters. */
  status(): NodeStatus {
    const core = this.#core;
    const base: CoreStatus = core?.status() ?? {
      id: this.id,
      role: 'follower',
      term: 0,
      vote: null,
      leaderId: null,
      commitIndex: 0,
      appliedIndex: 0,
      lastIndex: 0,
      lastTerm: 0,
      stableIndex: 0,
      snapshotIndex: 0,
      configuration: emptyConfiguration,
      settings: this.#options.initialSettings,
      progress: [],
    };
    return {
      ...base,
      appliedIndex: this.#appliedIndex,
      leaderAddress: base.leaderId === null ? null : this.#addressOf(base.leaderId),
      running: this.running,
      counters: this.#counters.values(),
    };
  }

  /** Whether the node still takes part in the protocol (it does while draining on stop). */
  get #active(): boolean {
    return this.#lifecycle === 'running' || this.#lifecycle === 'stopping';
  }

  #receive(message: Message): void {
    if (!this.#active) return;
    this.#counters.increment('messagesReceived');
    if (message.to !== this.id) {
      this.#counters.increment('messagesRejected');
      return;
    }
    if (message.type === 'forward-proposal') this.#handleForwardProposal(message);
    else if (message.type === 'forward-result') this.#forwards.onResult(message);
    else this.#step(message);
  }

  #step(message: RaftMessage): void {
    try {
      this.#core!.step(message);
    } catch (error) {
      if (error instanceof RaftError && error.code === 'INVALID_MESSAGE') {
        this.#counters.increment('messagesRejected');
        return;
      }
      this.#fail(toRaftError(error));
      return;
    }
    this.#schedule();
  }

  #scheduleTick(): void {
    this.#tickTimer = this.#options.clock.schedule(this.#options.tickMs, () => {
      if (!this.#active || this.#fatal !== null) return;
      try {
        this.#core!.tick();
      } catch (error) {
        this.#fail(toRaftError(error));
        return;
      }
      this.#schedule();
      this.#scheduleTick();
    });
  }

  /** Runs the Ready loop soon, unless it is running or already scheduled. */
  #schedule(): void {
    if (this.#loopRunning || this.#loopScheduled || this.#core === null || !this.#active) return;
    this.#loopScheduled = true;
    queueMicrotask(() => {
      this.#loopScheduled = false;
      if (this.#loopRunning) return;
      this.#loopIdle = this.#runLoop();
    });
  }

  /**
   * Drains Ready values until the core is idle. Inputs that arrive while a write is in flight
   * accumulate in the core and leave together in the next Ready: one sync for all (group commit).
   */
  async #runLoop(): Promise<void> {
    this.#loopRunning = true;
    const core = this.#core!;
    try {
      while (core.hasReady() && this.#active && this.#fatal === null) {
        const ready = core.ready();
        await this.#handleReady(ready);
        core.advance(ready);
      }
    } catch (error) {
      this.#fail(toRaftError(error));
    } finally {
      this.#loopRunning = false;
    }
    // Inputs may have arrived after the last hasReady check.
    if (this.#fatal === null && core.hasReady()) this.#schedule();
  }

  async #handleReady(ready: Ready): Promise<void> {
    const transport = this.#options.transport;
    if (ready.softState !== null) this.#onSoftState(ready.softState);
    for (const message of ready.messages) transport.send(message);
    if (ready.hardState !== null || ready.entries.length > 0) {
      const batch = {
        ...(ready.hardState === null ? {} : { hardState: ready.hardState }),
        ...(ready.entries.length === 0 ? {} : { entries: ready.entries }),
      };
      await wrapStorage(() => this.#options.storage.save(batch));
      this.#counters.increment('storageWrites');
      this.#counters.add('entriesPersisted', ready.entries.length);
    }
    for (const message of ready.messagesAfterPersist) transport.send(message);
    this.#counters.add('messagesSent', ready.messages.length + ready.messagesAfterPersist.length);
    if (ready.committed.length > 0) await this.#applyEntries(ready.committed);
    if (ready.reads.length > 0) this.#reads.onReadStates(ready.reads);
    this.#reads.serveApplied();
  }

  #onSoftState(soft: SoftState): void {
    const previous = this.#softState;
    this.#softState = soft;
    if (soft.term !== previous.term) {
      this.#publish('term', { nodeId: this.id, term: soft.term });
    }
    if (soft.role !== previous.role) {
      if (soft.role === 'candidate') this.#counters.increment('elections');
      this.#publish('role', {
        nodeId: this.id,
        role: soft.role,
        previousRole: previous.role,
        term: soft.term,
      });
    }
    if (soft.leaderId !== previous.leaderId) {
      this.#forwards.abandonAllBut(soft.leaderId);
      this.#counters.increment('leaderChanges');
      this.#publish('leader', { nodeId: this.id, leaderId: soft.leaderId, term: soft.term });
    }
    // Proposals queued while this server led and then lost office are refused, not left hanging.
    if (soft.role !== 'leader' && this.#proposalQueue.length > 0) {
      for (const queued of this.#proposalQueue.splice(0))
        queued.request.reject(this.#notLeaderError());
    }
  }

  /**
   * Applies a batch in order. A synchronous state machine is called without awaiting (a microtask
   * per entry would let callers slip in between and split the next batch), and callers are
   * resolved only after the whole batch, so their follow-up proposals form one append again.
   */
  async #applyEntries(entries: readonly Entry[]): Promise<void> {
    const settlements: (() => void)[] = [];
    for (const entry of entries) {
      const context: ApplyContext = { index: entry.index, term: entry.term };
      let result: unknown = undefined;
      if (entry.kind === 'command') {
        result = this.#applyOnce(entry.data, context);
        if (result instanceof Failure || isPromiseLike(result)) {
          result = await this.#applyWithPolicy(entry.data, context, result);
        }
      } else {
        const skipped = this.#options.stateMachine.skip?.(context);
        if (isPromiseLike(skipped)) await skipped;
        this.#publishNonCommand(entry);
      }
      this.#appliedIndex = entry.index;
      const waiter = this.#waiters.get(entry.index);
      if (waiter !== undefined) {
        this.#waiters.delete(entry.index);
        settlements.push(() => waiter.settle(entry, result));
      }
    }
    for (const settle of settlements) settle();
    this.#counters.add('entriesApplied', entries.length);
    this.#publish('applied', {
      nodeId: this.id,
      appliedIndex: this.#appliedIndex,
      entries: entries.length,
    });
  }

  #publishNonCommand(entry: Entry): void {
    if (entry.kind === 'configuration') {
      this.#publish('membership', {
        nodeId: this.id,
        configuration: entry.configuration,
        index: entry.index,
      });
    } else if (entry.kind === 'settings') {
      this.#publish('settings', { nodeId: this.id, settings: entry.settings, index: entry.index });
    }
  }

  /** One synchronous attempt: the result, a promise of it, or a `Failure` holding what it threw. */
  #applyOnce(command: Uint8Array, context: ApplyContext): unknown {
    try {
      return this.#options.stateMachine.apply(command, context);
    } catch (error) {
      return new Failure(error);
    }
  }

  /**
   * Finishes an apply that is asynchronous or failed, under the failure policy: retry if the
   * commands are idempotent, otherwise stop the node.
   */
  async #applyWithPolicy(
    command: Uint8Array,
    context: ApplyContext,
    first: unknown,
  ): Promise<unknown> {
    const { idempotentCommands, applyAttemptsMax, applyRetryDelayMs } = this.#options;
    const attempts = idempotentCommands ? applyAttemptsMax : 1;
    let outcome = first;
    let lastError: unknown = null;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        this.#counters.increment('applyRetries');
        await this.#sleep(applyRetryDelayMs * 2 ** (attempt - 1));
        outcome = this.#applyOnce(command, context);
      }
      try {
        const value = isPromiseLike(outcome) ? await outcome : outcome;
        if (!(value instanceof Failure)) return value;
        lastError = value.error;
      } catch (error) {
        lastError = error;
      }
    }
    const failure = new RaftError(
      'APPLY_FAILED',
      `applying entry ${context.index} failed${idempotentCommands ? ` after ${attempts} attempts` : ''}; the node stops`,
      { cause: lastError, details: { index: context.index, term: context.term } },
    );
    await this.#options.storage
      .setBroken(`${failure.message}: ${String(lastError)}`)
      .catch(() => undefined);
    throw failure;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#options.clock.schedule(ms, resolve));
  }

  #publish<K extends keyof RaftNodeEvents>(event: K, payload: RaftNodeEvents[K]): void {
    this.emit(event, payload);
    publishDiagnostics(event, payload);
  }

  #reportListenerError(error: unknown): void {
    this.#counters.increment('listenerErrors');
    publishDiagnostics('error', { nodeId: this.id, error: toRaftError(error), fatal: false });
  }

  /** A fatal error: stop at once, trust nothing half-done, tell every caller. */
  #fail(error: RaftError): void {
    if (this.#fatal !== null || this.#lifecycle === 'stopped') return;
    this.#fatal = error;
    this.#publish('error', { nodeId: this.id, error, fatal: true });
    void this.#shutdown(error);
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
    if (this.#lifecycle === 'stopping' || this.#lifecycle === 'stopped') {
      return this.#stopped;
    }
    return this.#shutdown(null);
  }

  #stopped: Promise<void> = Promise.resolve();

  #shutdown(error: RaftError | null): Promise<void> {
    this.#stopped = this.#doShutdown(error);
    return this.#stopped;
  }

  async #doShutdown(error: RaftError | null): Promise<void> {
    const wasRunning = this.#lifecycle === 'running';
    this.#lifecycle = 'stopping';
    const stopped = (message: string): RaftError =>
      error ?? new RaftError('STOPPED', message, { details: { retryable: false } });
    for (const queued of [...this.#proposalQueue.splice(0), ...this.#forwards.takeQueued()]) {
      queued.request.reject(stopped('node stopped before the request entered the log'));
    }
    for (const queued of this.#reads.takeAll())
      queued.request.reject(stopped('node stopped before the read was served'));
    if (wasRunning && error === null) await this.#drainWaiters();
    this.#tickTimer?.cancel();
    for (const waiter of this.#waiters.values()) waiter.fail(error ?? cancelledInLog('stopped'));
    this.#waiters.clear();
    this.#forwards.rejectInFlight(error ?? cancelledInLog('stopped'));
    await this.#options.transport.stop().catch(() => undefined);
    await this.#loopIdle.catch(() => undefined);
    this.#lifecycle = 'stopped';
    await this.#options.storage.close().catch(() => undefined);
    this.#publish('stopped', { nodeId: this.id, error });
  }

  /** Lets proposals already in the log settle, for at most `stopDrainMs`. */
  async #drainWaiters(): Promise<void> {
    if (this.#waiters.size === 0 && this.#forwards.inFlightCount === 0) return;
    const deadline = this.#options.clock.now() + this.#options.stopDrainMs;
    const stepMs = Math.max(1, Math.min(this.#options.tickMs, this.#options.stopDrainMs / 10));
    while (
      (this.#waiters.size > 0 || this.#forwards.inFlightCount > 0) &&
      this.#options.clock.now() < deadline
    ) {
      await this.#sleep(stepMs);
    }
  }
}

/** What a synchronous apply threw, kept as a value so the fast path needs no try around awaits. */
class Failure {
  constructor(readonly error: unknown) {}
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function replacedError(index: number): RaftError {
  return new RaftError(
    'PROPOSAL_DROPPED',
    `entry ${index} was replaced by a new leader; the command was not applied`,
    { details: { outcome: 'not-applied', retryable: true } },
  );
}

function toRaftError(error: unknown): RaftError {
  if (error instanceof RaftError) return error;
  return new RaftError('INVARIANT', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

async function wrapStorage<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof RaftError) throw error;
    throw new RaftError('STORAGE_FAILED', 'storage operation failed', { cause: error });
  }
}
