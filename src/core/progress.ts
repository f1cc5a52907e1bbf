import { Inflights } from './inflights.js';

/**
 * How the leader replicates to one follower. `probe`: one message at a time until the follower's
 * position is known. `replicate`: pipelined, within the inflight window. `snapshot`: waiting for a
 * snapshot to be installed.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one follower's log. */
export class Progress {
  /** Highest index known to be on the follower's log. */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In `probe`, a message is out and no more are sent until a reply or a heartbeat. */
  probeSent = false;
  /** Heard from this follower since the last CheckQuorum round. */
  recentActive = false;
  /** The highest commit index sent to this follower, so an empty append is sent only with news. */
  sentCommit = 0;
  /** The highest heartbeat round this follower answered: it followed us when that round arrived. */
  acknowledgedRound = 0;
  /** The snapshot index being sent, while in `snapshot`. */
  pendingSnapshot = 0;
  readonly inflights: Inflights;

  constructor(options: { next: number; inflightMessagesMax: number; inflightBytesMax: number }) {
    this.next = options.next;
    this.inflights = new Inflights(options.inflightMessagesMax, options.inflightBytesMax);
  }

  /** Whether sending more must wait for an acknowledgement. */
  get paused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full;
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    // After a snapshot the follower holds at least the snapshot's index.
    const next =
      this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) + 1 : this.match + 1;
    this.#reset('probe');
    this.next = next;
  }

  becomeReplicate(): void {
    this.#reset('replicate');
    this.next = this.match + 1;
  }

  /** A snapshot transfer failed: probe from what is known to match, not from the snapshot. */
  abortSnapshot(): void {
    this.pendingSnapshot = 0;
    this.becomeProbe();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#reset('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records an acknowledgement of `index`; returns whether it moved `match` forward. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Records that entries up to `lastIndex` were sent. */
  sentEntries(lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      this.next = lastIndex + 1;
      this.inflights.add(lastIndex, bytes);
    } else {
      this.probeSent = true;
    }
  }

  /**
   * Handles a rejection of the append whose previous index was `rejectedIndex`; `hintNext` is where
   * the leader thinks the logs may agree. Returns false when the rejection is stale (already
   * superseded by a later acknowledgement or a later probe) and must be ignored. A rejection never
   * moves `match`: a follower's claims about its log are trusted only on success.
   */
  maybeDecrease(rejectedIndex: number, hintNext: number): boolean {
    // While a snapshot is on its way, rejections of earlier appends say nothing new.
    if (this.state === 'snapshot') return false;
    if (this.state === 'replicate') {
      if (rejectedIndex <= this.match) return false;
      // The window was built on a wrong guess; restart from what is known to match.
      this.becomeProbe();
      return true;
    }
    if (this.next - 1 !== rejectedIndex) return false;
    this.next = Math.max(Math.min(rejectedIndex, hintNext), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  #reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
