import { RaftError } from '../../core/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Message } from '../transport.js';

/** The defaults of an {@link InProcessNetwork}'s options and faults. */
export const inProcessNetworkDefaults = Object.freeze({
  /** Messages in flight towards one node before new ones are dropped. */
  queueMessagesMax: 10_000,
  /** How long a reordered message is held back at most. */
  reorderDelayMsMax: 10,
});

/**
 * Random faults applied to every message. Rates are probabilities from 0 to 1; delays are in
 * milliseconds of the network's clock. All default to a perfect network (no loss, no delay).
 */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice (the copy takes its own delay). */
  readonly duplicateRate: number;
  /** Shortest delivery delay. */
  readonly delayMsMin: number;
  /** Longest delivery delay. */
  readonly delayMsMax: number;
  /**
   * Probability that a message leaves its link's first-in-first-out order: it is held back by up to
   * `reorderDelayMsMax` more, so later messages on the same link can overtake it.
   */
  readonly reorderRate: number;
  /** Longest extra hold-back of a reordered message. */
  readonly reorderDelayMsMax: number;
}

/** A network that neither loses, duplicates, delays nor reorders anything. */
export const perfectNetwork: NetworkFaults = Object.freeze({
  dropRate: 0,
  duplicateRate: 0,
  delayMsMin: 0,
  delayMsMax: 0,
  reorderRate: 0,
  reorderDelayMsMax: inProcessNetworkDefaults.reorderDelayMsMax,
});

/** Why the network dropped a message. */
export type DropReason =
  | 'random'
  | 'partitioned'
  | 'blocked'
  | 'filtered'
  | 'queue-full'
  | 'unreachable'
  | 'stopped'
  | 'invalid';

/** What happened to messages so far. Every message sent is eventually delivered or dropped. */
export interface InProcessNetworkStats {
  /** Calls to `send` on any transport of this network. */
  readonly sent: number;
  /** Messages handed to a receiver, duplicates included. */
  readonly delivered: number;
  /** Extra copies the network made. */
  readonly duplicated: number;
  /** Messages dropped, by reason. */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** Messages (and copies) scheduled but not yet delivered or dropped. */
  readonly inFlight: number;
}

/** One event on the network, for tracers and assertions. */
export type NetworkEvent =
  | { readonly kind: 'send'; readonly message: Message }
  | { readonly kind: 'deliver'; readonly message: Message }
  | { readonly kind: 'drop'; readonly message: Message; readonly reason: DropReason };

/**
 * Inspects every message as it is sent. Return the message to let it through (possibly a changed
 * copy), or `null` to drop it (counted as `filtered`).
 */
export type MessageInterceptor = (message: Message) => Message | null;

/** Options for {@link InProcessNetwork}. */
export interface InProcessNetworkOptions {
  /** Schedules deliveries; pass a simulated clock to drive the network on virtual time. */
  readonly clock?: Clock;
  /** Source of every random decision, returning values in [0, 1); seed it to replay a run. */
  readonly random?: () => number;
  /** Initial faults; any field left out is taken from {@link perfectNetwork}. */
  readonly faults?: Partial<NetworkFaults>;
  /** Messages in flight towards one node before new ones are dropped as `queue-full`. */
  readonly queueMessagesMax?: number;
  /** Called for every send, delivery and drop. Must not throw. */
  readonly onEvent?: (event: NetworkEvent) => void;
}

function checkRate(value: number, name: string): void {
  if (!(value >= 0 && value <= 1)) {
    throw new RaftError('INVALID_CONFIG', `${name} must be between 0 and 1, got ${value}`);
  }
}

export function checkFaults(faults: NetworkFaults): void {
  checkRate(faults.dropRate, 'dropRate');
  checkRate(faults.duplicateRate, 'duplicateRate');
  checkRate(faults.reorderRate, 'reorderRate');
  const { delayMsMin, delayMsMax, reorderDelayMsMax } = faults;
  if (!(delayMsMin >= 0 && delayMsMax >= delayMsMin && reorderDelayMsMax >= 0)) {
    throw new RaftError('INVALID_CONFIG', 'delays must satisfy 0 <= delayMsMin <= delayMsMax');
  }
}
