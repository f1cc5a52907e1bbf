import type { KeyValueOperation } from './key-value-model.js';

/** A completed `put` of `value` to `key` between `callTime` and `returnTime`. */
export function put(
  key: string,
  value: string,
  [callTime, returnTime]: readonly [number, number],
  process = 0,
): KeyValueOperation {
  return {
    process,
    input: { kind: 'put', key, value },
    status: 'ok',
    output: null,
    callTime,
    returnTime,
  };
}

/** A completed `append` of `value` to `key` between `callTime` and `returnTime`. */
export function append(
  key: string,
  value: string,
  [callTime, returnTime]: readonly [number, number],
  process = 0,
): KeyValueOperation {
  return {
    process,
    input: { kind: 'append', key, value },
    status: 'ok',
    output: null,
    callTime,
    returnTime,
  };
}

/** A completed `get` of `key` that read `read`. */
export function get(
  key: string,
  read: string,
  [callTime, returnTime]: readonly [number, number],
  process = 0,
): KeyValueOperation {
  return { process, input: { kind: 'get', key }, status: 'ok', output: read, callTime, returnTime };
}

/** A `put` whose client never learned the outcome. */
export function pendingPut(
  key: string,
  value: string,
  callTime: number,
  process = 0,
): KeyValueOperation {
  return { process, input: { kind: 'put', key, value }, status: 'pending', callTime };
}

/** An `append` whose client never learned the outcome. */
export function pendingAppend(
  key: string,
  value: string,
  callTime: number,
  process = 0,
): KeyValueOperation {
  return { process, input: { kind: 'append', key, value }, status: 'pending', callTime };
}

/** A `put` the system refused. */
export function failedPut(
  key: string,
  value: string,
  [callTime, returnTime]: readonly [number, number],
  process = 0,
): KeyValueOperation {
  return { process, input: { kind: 'put', key, value }, status: 'fail', callTime, returnTime };
}

/**
 * `count` appends of distinct values to `key`, all concurrent, then a read of a value none of their
 * orders produces: not linearizable, but proving it means trying every order of the appends.
 */
export function concurrentAppendsThenImpossibleRead(
  key: string,
  count: number,
): KeyValueOperation[] {
  const appends = Array.from({ length: count }, (_, index) =>
    append(key, `v${index};`, [0, 100], index),
  );
  return [...appends, get(key, 'impossible', [101, 102], count)];
}
