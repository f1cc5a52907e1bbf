import { describe, expect, it } from 'vitest';
import {
  RaftError,
  formatErrorChain,
  isSafeToRetry,
  type RaftErrorCode,
  type RequestOutcome,
} from './errors.js';

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
