import type { KeyValueOperation } from './key-value-model.js';

type Write = 'put' | 'append';

/** A completed write of `value` to `key` between `callTime` and `returnTime`. */
function completedWrite(kind: Write) {
  return (
    key: string,
    value: string,
    [callTime, returnTime]: readonly [number, number],
    process = 0,
  ): KeyValueOperation => ({
    process,
    input: { kind, key, value },
    status: 'ok',
    output: null,
    callTime,
    returnTime,
  });
}

/** A write whose client never learned the outcome. */
function pendingWrite(kind: Write) {
  return (key: string, value: string, callTime: number, process = 0): KeyValueOperation => ({
    process,
    input: { kind, key, value },
    status: 'pending',
    callTime,
  });
}

/** A completed `put` of `value` to `key` between `callTime` and `returnTime`. */
export const put = completedWrite('put');

/** A completed `append` of `value` to `key` between `callTime` and `returnTime`. */
export const append = completedWrite('append');

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
export const pendingPut = pendingWrite('put');

/** An `append` whose client never learned the outcome. */
export const pendingAppend = pendingWrite('append');

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
