/** Reconnect delays: exponential from a minimum, capped, with jitter. */
export interface BackoffOptions {
  /** Delay before the first retry. */
  readonly delayMsMin: number;
  /** The cap: retries never wait longer than this. */
  readonly delayMsMax: number;
}

/**
 * The delay before retry number `attempt` (0 for the first): the capped exponential delay, of which
 * a random half is kept, so servers that lost a peer together do not all retry at the same instant.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number) {
  // Past 2^30 the exponent only overflows; the cap has long been reached.
  const exponential = options.delayMsMin * 2 ** Math.min(attempt, 30);
  const capped = Math.min(options.delayMsMax, exponential);
  return capped / 2 + random() * (capped / 2);
}
