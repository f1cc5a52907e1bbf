import { isRaftError, RaftError, type NodeId } from '../core/index.js';
import type {
  ForwardOutcome,
  ForwardProposal,
  ForwardResult,
  SessionTag,
  Transport,
} from '../transport/transport.js';
import { ForwardDeduplicator } from './forward-deduplicator.js';
import type { NodeCounters } from './node-counters.js';
import { toRaftError } from './node-errors.js';
import { encodeSessionId } from './session-envelope.js';
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
export type ProposeLocally = (command: Uint8Array, session?: SessionTag) => Promise<unknown>;

/**
 * The leader's side of `forwardProposals`, mirror of {@link ForwardClient}: proposes a follower's
 * batch through the leader's own pipeline and sends back, for each command, what a local caller
 * would have got. The pipeline may append a batch in several parts and refuse a later one (a
 * limit, a lost election) after an earlier one entered the log, so outcomes are never merged: a
 * command in the log is never reported as refused because its neighbour was. A duplicated message
 * is recognised by its request id and proposed only once.
 */
export class ForwardServer {
  readonly #options: ForwardServerOptions;
  readonly #deduplicator = new ForwardDeduplicator();

  constructor(options: ForwardServerOptions) {
    this.#options = options;
  }

  /** Serves one forwarded batch, through `propose`, or refuses all of it with `propose`'s error. */
  serve(message: ForwardProposal, propose: ProposeLocally | RaftError): void {
    if (!this.#deduplicator.firstTime(message.from, message.requestId)) {
      this.#options.counters.duplicateForwardsIgnored++;
      return;
    }
    if (propose instanceof RaftError) {
      this.#reply(
        message,
        message.commands.map(() => failedOutcome(propose)),
      );
      return;
    }
    const tags = sessionsByPosition(message);
    const outcomes = message.commands.map((command, position) =>
      propose(command, tags[position]).then(
        (result) => this.#appliedOutcome(result, tags[position]),
        (error: unknown) => failedOutcome(toRaftError(error)),
      ),
    );
    // Every promise above settles with an outcome: none of them rejects.
    void Promise.all(outcomes).then((settled) => this.#reply(message, settled));
  }

  #appliedOutcome(result: unknown, session: SessionTag | undefined): ForwardOutcome {
    try {
      // A registration answers with its session id, whatever the application's codec is.
      const bytes =
        session?.kind === 'register'
          ? encodeSessionId(result as number)
          : this.#options.resultCodec.encode(result);
      return { status: 'applied', result: bytes };
    } catch (error) {
      // Applied, but the result cannot travel: the follower's caller learns it may have applied.
      return failedOutcome(
        new RaftError(
          'OUTCOME_UNKNOWN',
          'the command was applied but its result could not be encoded',
          { cause: error, details: { outcome: 'unknown' } },
        ),
      );
    }
  }

  #reply(message: ForwardProposal, outcomes: readonly ForwardOutcome[]): void {
    const result: ForwardResult = {
      type: 'forward-result',
      from: this.#options.id,
      to: message.from,
      requestId: message.requestId,
      outcomes: withinResultBudget(outcomes),
      leaderId: this.#options.leaderId(),
    };
    this.#options.transport.send(result);
  }
}

/**
 * Result bytes one answer to a forwarded batch carries at most, half of the default frame limit
 * (`messageBytesMax`, 16 MiB) so the outcomes' other fields always fit beside them. A larger answer
 * could not be sent at all, and every caller of the batch would wait out its deadline to learn
 * only that its command may have applied.
 */
export const forwardResultBytesMax = 8 * 1024 * 1024;

/**
 * The outcomes as they can travel: results are kept in order while they fit in
 * {@link forwardResultBytesMax}; one that would not fit stays behind and its caller gets
 * `RESULT_DISCARDED` with outcome `applied` (the command took effect; sending it again would not
 * bring its result back).
 */
function withinResultBudget(outcomes: readonly ForwardOutcome[]): readonly ForwardOutcome[] {
  let bytes = 0;
  return outcomes.map((outcome) => {
    if (outcome.status !== 'applied') return outcome;
    if (bytes + outcome.result.byteLength <= forwardResultBytesMax) {
      bytes += outcome.result.byteLength;
      return outcome;
    }
    return failedOutcome(
      new RaftError(
        'RESULT_DISCARDED',
        `the command was applied, but its result of ${outcome.result.byteLength} bytes does not fit in the answer to the forwarding server (${forwardResultBytesMax} bytes of results at most); read the state to learn it`,
        { details: { outcome: 'applied' } },
      ),
    );
  });
}

/**
 * Characters of an error message or rejection reason sent back per command: a whole batch of
 * long messages must still fit in one frame (`errorMessageBytesMax` and `messageBytesMax`).
 */
export const forwardedTextLengthMax = 1024;

/**
 * One command's error as it travels back; a state machine's rejection keeps its reason. An error
 * that does not say what happened to the command travels as `unknown`: the caller must not take it
 * for a refusal and send the command again.
 */
function failedOutcome(error: RaftError): ForwardOutcome {
  return {
    status: 'failed',
    code: error.code,
    message: error.message.slice(0, forwardedTextLengthMax),
    outcome: error.details.outcome ?? 'unknown',
    reason: isRaftError(error, 'COMMAND_REJECTED')
      ? error.details.reason.slice(0, forwardedTextLengthMax)
      : null,
  };
}

/** Each forwarded command's session tag by position; none for plain commands. */
function sessionsByPosition(message: ForwardProposal): (SessionTag | undefined)[] {
  const tags: (SessionTag | undefined)[] = [];
  for (const { position, ...tag } of message.sessions ?? []) tags[position] = tag;
  return tags;
}
