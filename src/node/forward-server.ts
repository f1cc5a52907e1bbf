import { RaftError, type NodeId } from '../core/index.js';
import type { ForwardProposal, ForwardResult, Transport } from '../transport/transport.js';
import { ForwardDeduplicator } from './forward-deduplicator.js';
import type { NodeCounters } from './node-counters.js';
import { toRaftError } from './node-errors.js';
import type { ResultCodec } from './state-machine.js';

/** What the leader's side of forwarding needs: where to answer, and how results travel. */
export interface ForwardServerOptions {
  readonly id: NodeId;
  readonly transport: Pick<Transport, 'send'>;
  readonly resultCodec: ResultCodec<unknown>;
  readonly counters: NodeCounters;
  /** The leader this server knows when it answers, as a hint for the follower. */
  leaderId(): NodeId | null;
}

/** The leader's own write path, used for a forwarded command exactly as for a local caller. */
export type ProposeLocally = (command: Uint8Array) => Promise<unknown>;

/**
 * The leader's side of `forwardProposals`, mirror of {@link ForwardClient}: proposes a follower's
 * batch through the leader's own pipeline and sends back what a local caller would have got. A
 * duplicated message is recognised by its request id and proposed only once.
 */
export class ForwardServer {
  readonly #options: ForwardServerOptions;
  readonly #deduplicator = new ForwardDeduplicator();

  constructor(options: ForwardServerOptions) {
    this.#options = options;
  }

  /** Serves one forwarded batch, through `propose`, or answers with `propose` when it is a refusal. */
  serve(message: ForwardProposal, propose: ProposeLocally | RaftError): void {
    if (!this.#deduplicator.firstTime(message.from, message.requestId)) {
      this.#options.counters.increment('duplicateForwardsIgnored');
      return;
    }
    if (propose instanceof RaftError) {
      this.#reply(message, { results: [], errorCode: propose.code, errorMessage: propose.message });
      return;
    }
    const codec = this.#options.resultCodec;
    Promise.all(message.commands.map((command) => propose(command))).then(
      (results) =>
        this.#reply(message, {
          results: results.map((result) => codec.encode(result)),
          errorCode: null,
          errorMessage: '',
        }),
      (error: unknown) => {
        const raftError = toRaftError(error);
        this.#reply(message, {
          results: [],
          errorCode: raftError.code,
          errorMessage: raftError.message,
        });
      },
    );
  }

  #reply(
    message: ForwardProposal,
    fields: Pick<ForwardResult, 'results' | 'errorCode' | 'errorMessage'>,
  ): void {
    this.#options.transport.send({
      type: 'forward-result',
      from: this.#options.id,
      to: message.from,
      requestId: message.requestId,
      leaderId: this.#options.leaderId(),
      ...fields,
    });
  }
}
