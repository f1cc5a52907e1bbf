import { describe, expect, it } from 'vitest';
import { Progress } from './progress.js';

function progressAt(next: number, window = { messages: 4, bytes: 1000 }): Progress {
  return new Progress({
    next,
    inflightMessagesMax: window.messages,
    inflightBytesMax: window.bytes,
  });
}

describe('Progress in probe: one message at a time until the position is known', () => {
  it('starts in probe with nothing known', () => {
    const progress = progressAt(11);
    expect(progress.state).toBe('probe');
    expect(progress.match).toBe(0);
    expect(progress.paused).toBe(false);
  });

  it('pauses after sending, without moving next', () => {
    const progress = progressAt(11);
    progress.sentEntries(13, 100);
    expect(progress.paused).toBe(true);
    expect(progress.next).toBe(11);
    expect(progress.inflights.count).toBe(0);
  });

  it('an acknowledgement moves match and next forward and resumes sending', () => {
    const progress = progressAt(11);
    progress.sentEntries(13, 100);
    expect(progress.maybeUpdate(13)).toBe(true);
    expect(progress.match).toBe(13);
    expect(progress.next).toBe(14);
    expect(progress.paused).toBe(false);
  });

  it('an acknowledgement at or below match is not progress', () => {
    const progress = progressAt(11);
    progress.maybeUpdate(8);
    expect(progress.maybeUpdate(8)).toBe(false);
    expect(progress.maybeUpdate(5)).toBe(false);
    expect(progress.match).toBe(8);
  });

  it('a rejection of the message in flight moves next back to the hint', () => {
    const progress = progressAt(11);
    progress.sentEntries(11, 10);
    expect(progress.maybeDecrease(10, 6)).toBe(true);
    expect(progress.next).toBe(6);
    expect(progress.paused).toBe(false);
  });

  it('a hint above the rejected index is not trusted: next goes to the rejected index at most', () => {
    const progress = progressAt(11);
    expect(progress.maybeDecrease(10, 50)).toBe(true);
    expect(progress.next).toBe(10);
  });

  it('a stale rejection (for an earlier probe) is ignored', () => {
    const progress = progressAt(11);
    progress.maybeDecrease(10, 6);
    expect(progress.next).toBe(6);
    // The rejection of the probe at 9 arrives late; the current probe is at prev index 5.
    expect(progress.maybeDecrease(9, 3)).toBe(false);
    expect(progress.next).toBe(6);
  });

  it('maybeDecrease never moves next to or below match', () => {
    const progress = progressAt(11);
    progress.maybeUpdate(7);
    progress.next = 11;
    expect(progress.maybeDecrease(10, 2)).toBe(true);
    expect(progress.next).toBe(8);
    expect(progress.match).toBe(7);
  });

  it('maybeDecrease never moves next below 1', () => {
    const progress = progressAt(1);
    progress.next = 2;
    expect(progress.maybeDecrease(1, 0)).toBe(true);
    expect(progress.next).toBe(1);
  });

  it('a rejection never moves match', () => {
    const progress = progressAt(11);
    progress.maybeUpdate(4);
    progress.next = 11;
    progress.maybeDecrease(10, 9);
    expect(progress.match).toBe(4);
  });
});

describe('Progress in replicate: pipelined within the inflight window', () => {
  it('becomeReplicate restarts from match + 1 with an empty window', () => {
    const progress = progressAt(11);
    progress.maybeUpdate(9);
    progress.becomeReplicate();
    expect(progress.state).toBe('replicate');
    expect(progress.next).toBe(10);
    expect(progress.inflights.count).toBe(0);
  });

  it('each send advances next optimistically and fills the window', () => {
    const progress = progressAt(1, { messages: 2, bytes: 1000 });
    progress.becomeReplicate();
    progress.sentEntries(3, 10);
    expect(progress.next).toBe(4);
    expect(progress.paused).toBe(false);
    progress.sentEntries(5, 10);
    expect(progress.next).toBe(6);
    expect(progress.paused).toBe(true);
  });

  it('the byte limit pauses it too', () => {
    const progress = progressAt(1, { messages: 10, bytes: 100 });
    progress.becomeReplicate();
    progress.sentEntries(1, 100);
    expect(progress.paused).toBe(true);
  });

  it('a rejection above match falls back to probe from match + 1', () => {
    const progress = progressAt(1);
    progress.maybeUpdate(3);
    progress.becomeReplicate();
    progress.sentEntries(6, 10);
    progress.sentEntries(9, 10);
    expect(progress.maybeDecrease(6, 2)).toBe(true);
    expect(progress.state).toBe('probe');
    expect(progress.next).toBe(4);
    expect(progress.match).toBe(3);
    expect(progress.inflights.count).toBe(0);
  });

  it('a rejection at or below match is stale and ignored', () => {
    const progress = progressAt(1);
    progress.maybeUpdate(5);
    progress.becomeReplicate();
    progress.sentEntries(8, 10);
    expect(progress.maybeDecrease(5, 1)).toBe(false);
    expect(progress.maybeDecrease(2, 1)).toBe(false);
    expect(progress.state).toBe('replicate');
    expect(progress.next).toBe(9);
    expect(progress.inflights.count).toBe(1);
  });

  it('an acknowledgement that lags next keeps next where it is', () => {
    const progress = progressAt(1);
    progress.becomeReplicate();
    progress.sentEntries(4, 10);
    progress.sentEntries(8, 10);
    expect(progress.maybeUpdate(4)).toBe(true);
    expect(progress.next).toBe(9);
  });
});

describe('Progress in snapshot', () => {
  it('is paused until the snapshot is done, then probes after the snapshot', () => {
    const progress = progressAt(1);
    progress.maybeUpdate(2);
    progress.becomeSnapshot(20);
    expect(progress.paused).toBe(true);
    progress.becomeProbe();
    expect(progress.state).toBe('probe');
    expect(progress.next).toBe(21);
    expect(progress.paused).toBe(false);
  });

  it('probes from match when the follower got further than the snapshot', () => {
    const progress = progressAt(1);
    progress.becomeSnapshot(20);
    progress.maybeUpdate(25);
    progress.becomeProbe();
    expect(progress.next).toBe(26);
  });
});
