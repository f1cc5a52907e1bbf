import { RaftError, isVoter, type NodeId, type RaftCore } from '../core/index.js';
import type { JoinRequest, JoinResponse, Message } from '../transport/transport.js';
import type { Clock } from '../platform/clock.js';

/** How a server with empty storage joins an existing cluster. */
export interface JoinOptions {
  /** Ids of members to ask (one is enough); the transport must be able to reach them. */
  readonly contacts: readonly NodeId[];
  /** Milliseconds to wait for an answer before asking again. Default: one election timeout. */
  readonly roundMs?: number;
  /** Rounds of asking before start() fails with `TIMEOUT`. Default 30. */
  readonly roundsMax?: number;
}

/** What a member told the joining server. */
export interface JoinAnswer {
  readonly contact: NodeId;
  readonly leaderId: NodeId | null;
  readonly response: JoinResponse;
}

/** The remedy for a member that lost its storage, in words an operator can act on. */
export function dataLostMessage(id: NodeId): string {
  return (
    `${id} is a voter of this cluster but started with empty storage: it may have lost votes it ` +
    `cast and must not vote again. Remove it (removeServer('${id}') on the leader), ` +
    `then add it back as a new member with empty storage.`
  );
}

/**
 * A member's answer to a join request. A server that is a voter already but asks to join, which
 * only a server with empty storage does, has lost its disk: it is refused with `DATA_LOST`. A
 * learner never votes, so one that lost its disk simply receives the log again.
 */
export function answerJoin(core: RaftCore, request: JoinRequest): JoinResponse {
  const configuration = core.configuration;
  const base = {
    type: 'join-response',
    from: core.id,
    to: request.from,
    requestId: request.requestId,
    leaderId: core.leaderId,
  } as const;
  if (isVoter(configuration, request.from)) {
    return {
      ...base,
      configuration,
      errorCode: 'DATA_LOST',
      errorMessage: dataLostMessage(request.from),
    };
  }
  const known = configuration.voters.length > 0;
  return {
    ...base,
    configuration: known ? configuration : null,
    errorCode: null,
    errorMessage: '',
  };
}

/**
 * The joining side: asks each contact in turn, once per round, until one that knows the cluster
 * answers. Bounded: after `roundsMax` rounds it fails with `TIMEOUT`.
 */
export class JoinClient {
  readonly #options: Required<JoinOptions>;
  readonly #self: NodeId;
  readonly #clock: Clock;
  readonly #send: (message: Message) => void;
  #requestId = 0;
  #settle: ((answer: JoinAnswer | RaftError) => void) | null = null;

  constructor(init: {
    self: NodeId;
    options: JoinOptions;
    defaultRoundMs: number;
    clock: Clock;
    send: (message: Message) => void;
  }) {
    if (init.options.contacts.length === 0) {
      throw new RaftError('INVALID_CONFIG', 'join.contacts must name at least one member');
    }
    if (init.options.contacts.includes(init.self)) {
      throw new RaftError('INVALID_CONFIG', 'join.contacts must not include this server');
    }
    this.#options = {
      contacts: init.options.contacts,
      roundMs: init.options.roundMs ?? init.defaultRoundMs,
      roundsMax: init.options.roundsMax ?? 30,
    };
    this.#self = init.self;
    this.#clock = init.clock;
    this.#send = init.send;
  }

  /** Asks until answered; rejects with `DATA_LOST` or `TIMEOUT`. */
  join(): Promise<JoinAnswer> {
    return new Promise<JoinAnswer>((resolve, reject) => {
      let round = 0;
      let timer: { cancel(): void } | null = null;
      this.#settle = (answer) => {
        this.#settle = null;
        timer?.cancel();
        if (answer instanceof RaftError) reject(answer);
        else resolve(answer);
      };
      const ask = (): void => {
        if (this.#settle === null) return;
        if (round >= this.#options.roundsMax) {
          this.#settle(
            new RaftError(
              'TIMEOUT',
              `no member answered the join request in ${round} rounds (asked ${this.#options.contacts.join(', ')})`,
              {},
            ),
          );
          return;
        }
        round++;
        this.#requestId++;
        for (const contact of this.#options.contacts) {
          this.#send({
            type: 'join-request',
            from: this.#self,
            to: contact,
            requestId: this.#requestId,
          });
        }
        timer = this.#clock.schedule(this.#options.roundMs, ask);
      };
      ask();
    });
  }

  /** Hands over an answer that arrived; stale and uninformed answers are ignored. */
  onResponse(response: JoinResponse): void {
    if (this.#settle === null || response.requestId > this.#requestId) return;
    if (response.errorCode === 'DATA_LOST') {
      this.#settle(
        new RaftError('DATA_LOST', response.errorMessage, {
          details: { contact: response.from },
        }),
      );
    } else if (response.errorCode === null && response.configuration !== null) {
      this.#settle({ contact: response.from, leaderId: response.leaderId, response });
    }
  }
}
