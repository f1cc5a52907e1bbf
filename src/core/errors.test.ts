import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  RaftError,
  formatErrorChain,
  isRaftError,
  isSafeToRetry,
  type RaftErrorCode,
  type RaftErrorDetailsOf,
  type RequestOutcome,
} from './errors.js';
import type { NodeId } from './types.js';

describe('formatErrorChain', () => {
  it('names every cause behind a wrapped error, one line each', () => {
    const disk = Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
    const error = new RaftError('STORAGE_FAILED', 'storage save failed', { cause: disk });
    expect(formatErrorChain(error)).toBe(
      'STORAGE_FAILED storage save failed\n  caused by: ENOSPC no space left on device, write',
    );
  });

  it('stops at a cycle and describes values that are not errors', () => {
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    (first as { cause?: unknown }).cause = second;
    expect(formatErrorChain(second).split('\n')).toHaveLength(2);
    expect(formatErrorChain('plain text')).toBe('plain text');
    expect(formatErrorChain(new RaftError('TIMEOUT', '', { cause: 42 }))).toBe(
      'TIMEOUT\n  caused by: 42',
    );
  });
});

describe('RaftError', () => {
  it('is recognised across two copies of the package, and nothing else is', async () => {
    // A second instance of this very module stands for a second installed copy of raftkit.
    const copy = (await import(
      /* @vite-ignore */ `./errors.js?copy=${Date.now()}`
    )) as typeof import('./errors.js');
    expect(copy.RaftError).not.toBe(RaftError);
    expect(new copy.RaftError('TIMEOUT', 'late') instanceof RaftError).toBe(true);
    expect(new RaftError('TIMEOUT', 'late') instanceof copy.RaftError).toBe(true);
    expect(new Error('plain') instanceof RaftError).toBe(false);
    expect({ code: 'TIMEOUT', name: 'RaftError' } instanceof RaftError).toBe(false);
    const nothing: unknown = null;
    expect(nothing instanceof RaftError).toBe(false);
  });

  it('keeps the ordinary check for subclasses', () => {
    class StorageFault extends RaftError {}
    expect(new StorageFault('STORAGE_FAILED', 'disk') instanceof StorageFault).toBe(true);
    expect(new RaftError('STORAGE_FAILED', 'disk') instanceof StorageFault).toBe(false);
    expect(new StorageFault('STORAGE_FAILED', 'disk') instanceof RaftError).toBe(true);
  });
});

describe('isRaftError', () => {
  const notLeader = new RaftError('NOT_LEADER', 'n2 is not the leader', {
    details: { leaderId: 'n1', leaderAddress: 'n1.local:7000', outcome: 'not-applied' },
  });

  it('recognises a RaftError of one of the codes given, and nothing else', () => {
    expect(isRaftError(notLeader)).toBe(true);
    expect(isRaftError(notLeader, 'NOT_LEADER')).toBe(true);
    expect(isRaftError(notLeader, 'NO_LEADER', 'NOT_LEADER')).toBe(true);
    expect(isRaftError(notLeader, 'NO_LEADER')).toBe(false);
    expect(isRaftError(new Error('plain'))).toBe(false);
    expect(isRaftError({ code: 'NOT_LEADER', details: {} }, 'NOT_LEADER')).toBe(false);
    expect(isRaftError(undefined, 'TIMEOUT')).toBe(false);
  });

  it('narrows the details to those of the code', () => {
    const caught: unknown = notLeader;
    if (!isRaftError(caught, 'NOT_LEADER')) throw new Error('expected NOT_LEADER');
    expectTypeOf(caught.code).toEqualTypeOf<'NOT_LEADER'>();
    expectTypeOf(caught.details.leaderId).toEqualTypeOf<NodeId | null>();
    expectTypeOf(caught.details.outcome).toEqualTypeOf<RequestOutcome>();
    expect(caught.details.leaderId).toBe('n1');
    expect(caught.details.leaderAddress).toBe('n1.local:7000');
  });

  it('leaves the fields of one code unread until the code is known', () => {
    const caught: unknown = notLeader;
    if (!isRaftError(caught)) throw new Error('expected a RaftError');
    // Fields every code may carry read directly...
    expectTypeOf(caught.details.outcome).toEqualTypeOf<RequestOutcome | undefined>();
    // ...the others only once the code is narrowed.
    // @ts-expect-error leaderAddress belongs to NOT_LEADER alone
    expect(caught.details.leaderAddress).toBe('n1.local:7000');
    expectTypeOf<RaftErrorDetailsOf<'CORRUPT_STORAGE'>['file']>().toEqualTypeOf<
      string | undefined
    >();
  });

  it('checks the details of each code where the error is made', () => {
    const refused = { outcome: 'not-applied' } as const;
    // @ts-expect-error NOT_LEADER needs leaderId and outcome
    const noLeaderId = new RaftError('NOT_LEADER', 'no details');
    // @ts-expect-error COMMAND_REJECTED needs the application's reason
    const noReason = new RaftError('COMMAND_REJECTED', 'no', { details: refused });
    // @ts-expect-error CORRUPT_STORAGE has no leaderAddress
    const stray = new RaftError('CORRUPT_STORAGE', 'bad', { details: { leaderAddress: 'x' } });
    // The checks are the compiler's; at run time the details are kept as given.
    expect([noLeaderId, noReason, stray].map((error) => error.details)).toEqual([
      {},
      refused,
      { leaderAddress: 'x' },
    ]);
    // A code whose fields are all optional needs no details at all.
    expect(new RaftError('TIMEOUT', 'late').details).toEqual({});
  });
});

describe('isSafeToRetry', () => {
  const error = (code: RaftErrorCode, outcome?: RequestOutcome) =>
    new RaftError(code, code, { details: outcome === undefined ? {} : { outcome } });

  it('allows a transient failure that did not apply', () => {
    expect(isSafeToRetry(error('NOT_LEADER', 'not-applied'))).toBe(true);
    expect(isSafeToRetry(error('BUSY', 'not-applied'))).toBe(true);
  });

  it('refuses an unknown outcome unless the request carries a session', () => {
    expect(isSafeToRetry(error('OUTCOME_UNKNOWN', 'unknown'))).toBe(false);
    expect(isSafeToRetry(error('OUTCOME_UNKNOWN', 'unknown'), { inSession: true })).toBe(true);
  });

  it('refuses what trying again cannot fix', () => {
    expect(isSafeToRetry(error('INVALID_CONFIG', 'not-applied'))).toBe(false);
    expect(isSafeToRetry(error('STOPPED', 'not-applied'))).toBe(false);
    expect(isSafeToRetry(error('COMMAND_REJECTED', 'not-applied'))).toBe(false);
    expect(isSafeToRetry(new Error('plain'))).toBe(false);
  });
});
