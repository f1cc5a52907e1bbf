import type { NodeStatus } from 'raftkit';

/**
 * The leader's view of which servers are alive, from the replication progress it already keeps.
 * With CheckQuorum on, the core clears every peer's `recentActive` mark once per election timeout
 * and sets it again when the peer answers; a live peer is therefore seen active in nearly every
 * sample, and a peer not seen active for `silenceMsMax` is taken as down.
 */
export class FailureDetector {
  readonly #silenceMsMax: number;
  readonly #lastSeenMs = new Map<string, number>();
  #leaderSinceMs: number | null = null;

  constructor(options: { readonly silenceMsMax: number }) {
    this.#silenceMsMax = options.silenceMsMax;
  }

  /**
   * Records one sample of the status; returns the live voters, or null when this server does not
   * lead (only the leader sees its peers' progress).
   */
  sample(status: NodeStatus, nowMs: number): string[] | null {
    if (status.role !== 'leader') {
      this.#leaderSinceMs = null;
      this.#lastSeenMs.clear();
      return null;
    }
    // A new leader has not heard from anyone yet: everyone gets one full grace period.
    this.#leaderSinceMs ??= nowMs;
    for (const peer of status.progress) {
      if (peer.recentActive || peer.id === status.id) this.#lastSeenMs.set(peer.id, nowMs);
    }
    return status.configuration.voters.filter((id) => {
      const seenMs = this.#lastSeenMs.get(id) ?? this.#leaderSinceMs!;
      return nowMs - seenMs <= this.#silenceMsMax;
    });
  }
}
