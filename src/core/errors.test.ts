import { describe, expect, it } from 'vitest';
import { RaftError, formatErrorChain } from './errors.js';

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
