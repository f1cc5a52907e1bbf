import type { Message } from '../../codec/messages.js';
import type { DurableView } from './cluster-view.js';
import type { ViolationLog } from './safety-violation.js';

/**
 * Persist before answering (Raft Figure 2: persistent state is "updated on stable storage before
 * responding to RPCs"). A granted vote must be on the voter's disk when it leaves, or the voter
 * could forget it in a crash and vote again in the same term; an acknowledgement of entries up to
 * `m` must find `m` entries on the follower's disk, or the leader could count a copy a crash will
 * lose. A sender whose disk already holds a later term has moved on, and is not held to the old
 * answer. Judged at the moment the message leaves its sender.
 */
export class DurableResponsesChecker {
  readonly #log: ViolationLog;

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** `message` left its sender, whose disk holds `durable` now. */
  observeSent(message: Message, durable: DurableView): void {
    if (message.type === 'request-vote-response') {
      if (!message.granted || message.preVote) return;
      this.#log.count();
      if (durable.term > message.term) return;
      if (durable.term < message.term || durable.vote !== message.to) {
        this.#log.report(
          'durability',
          `${message.from} granted ${message.to} its vote in term ${message.term} but its disk holds term ${durable.term} vote ${durable.vote ?? 'none'}`,
        );
      }
    } else if (message.type === 'append-entries-response' && message.success) {
      this.#log.count();
      if (durable.term > message.term) return;
      if (durable.term < message.term || durable.log.lastIndex < message.matchIndex) {
        this.#log.report(
          'durability',
          `${message.from} acknowledged entries up to ${message.matchIndex} in term ${message.term} but its disk holds term ${durable.term} and entries up to ${durable.log.lastIndex}`,
        );
      }
    }
  }
}
