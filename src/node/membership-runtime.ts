import { RaftError, coreDefaults, type Entry, type RaftCore } from '../core/index.js';
import type { JoinRequest, JoinResponse, Message, Transport } from '../transport/transport.js';
import type { Clock } from '../platform/clock.js';
import { ConfigurationWatcher } from './configuration-watcher.js';
import { JoinClient, answerJoin, type JoinAnswer, type JoinOptions } from './join.js';
import { MembershipChanges } from './membership.js';
import type { NodeCounters } from './node-counters.js';
import type { NodeEventPublisher, RaftNodeEvents } from './node-events.js';
import type { TypedEmitter } from './typed-emitter.js';

/** What the membership parts of a node need from it. */
export interface MembershipRuntimeOptions {
  readonly id: string;
  readonly clock: Clock;
  readonly tickMs: number;
  readonly core: { readonly electionTicks?: number };
  readonly catchUpRoundsMax: number;
  readonly membershipTimeoutMs: number;
  readonly join: JoinOptions | null;
  readonly counters: NodeCounters;
  readonly transport: Pick<Transport, 'send'>;
  /** Where the node's `membership` and non-fatal `error` events go. */
  readonly publisher: Pick<NodeEventPublisher, 'publish'>;
  /** The core when the node runs and leads; otherwise the refusal. */
  leader(): RaftCore | RaftError;
  schedule(): void;
  /** The node's events, to follow a change to its end. */
  readonly events: Pick<TypedEmitter<RaftNodeEvents>, 'on'>;
}

const counterOf = {
  appended: 'membershipAppended',
  committed: 'membershipCommitted',
  aborted: 'membershipAborted',
} as const;

/**
 * Everything a node does about membership, in one place: the leader's changes
 * ({@link MembershipChanges}), the `membership` events on every server
 * ({@link ConfigurationWatcher}), and both sides of the join handshake.
 */
export class MembershipRuntime {
  readonly changes: MembershipChanges;
  readonly #options: MembershipRuntimeOptions;
  readonly #watcher: ConfigurationWatcher;
  readonly #electionTimeoutMs: number;
  #joinClient: JoinClient | null = null;
  #joinAnswer: JoinAnswer | null = null;

  constructor(options: MembershipRuntimeOptions) {
    this.#options = options;
    this.#electionTimeoutMs =
      options.tickMs * (options.core.electionTicks ?? coreDefaults.electionTicks);
    this.#watcher = new ConfigurationWatcher(options.id, (event) => {
      options.counters.increment(counterOf[event.change]);
      options.publisher.publish('membership', event);
    });
    this.changes = new MembershipChanges({
      clock: options.clock,
      limits: {
        electionTimeoutMs: this.#electionTimeoutMs,
        catchUpRoundsMax: options.catchUpRoundsMax,
        membershipTimeoutMs: options.membershipTimeoutMs,
        pollMs: options.tickMs,
      },
      leader: () => options.leader(),
      schedule: () => options.schedule(),
      onMembership: (listener) => options.events.on('membership', listener),
      countRound: () => options.counters.catchUpRounds++,
    });
  }

  /** What the contact said when this server joined (first boot in join mode), else null. */
  get joinAnswer(): JoinAnswer | null {
    return this.#joinAnswer;
  }

  /** Takes up a restored core's configuration without events for the past. */
  restored(core: RaftCore): void {
    this.#watcher.reset(core);
  }

  /** Announces a configuration change the core made; before the Ready's messages leave. */
  observe(core: RaftCore): void {
    this.#watcher.observe(core);
  }

  /** Announces the configuration entries of an applied batch. */
  applied(entries: readonly Entry[]): void {
    for (const entry of entries) this.#watcher.applied(entry);
  }

  /**
   * Join mode on first boot, before anything is written: asks the cluster through the transport
   * (started by `startTransport`). `DATA_LOST` or `TIMEOUT` fail the start with storage empty.
   */
  async join(startTransport: () => Promise<void>): Promise<void> {
    const options = this.#options;
    if (options.join === null) return;
    await startTransport();
    const client = new JoinClient({
      self: options.id,
      options: options.join,
      defaultRoundMs: this.#electionTimeoutMs,
      clock: options.clock,
      send: (message) => options.transport.send(message),
    });
    this.#joinClient = client;
    try {
      this.#joinAnswer = await client.join();
    } finally {
      this.#joinClient = null;
    }
  }

  /**
   * Takes the join handshake's messages: answers (which arrive while this node is still starting)
   * and requests (answered once this node runs, `core` set). True when `message` was one of them.
   */
  receive(message: Message, core: RaftCore | null): message is JoinRequest | JoinResponse {
    if (message.type === 'join-response') this.#joinClient?.onResponse(message);
    else if (message.type === 'join-request') {
      if (core !== null) this.#answer(core, message);
    } else return false;
    return true;
  }

  /** Answers a joining server; a voter that lost its disk is refused and reported. */
  #answer(core: RaftCore, request: JoinRequest): void {
    const response = answerJoin(core, request);
    if (response.errorCode === 'DATA_LOST') {
      this.#options.counters.joinsRefused++;
      const error = new RaftError('DATA_LOST', response.errorMessage, {
        details: { id: request.from },
      });
      this.#options.publisher.publish('error', { nodeId: this.#options.id, error, fatal: false });
    }
    this.#options.transport.send(response);
  }
}
