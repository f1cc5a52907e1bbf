import { partitionByKey, type SequentialModel, type StepResult } from './sequential-model.js';
import type { Operation } from './operation.js';

/** A request to a string key-value store: `put` replaces, `append` adds to the end, `get` reads. */
export type KeyValueInput =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put' | 'append'; readonly key: string; readonly value: string };

/** What a `get` read (`null` reads as the empty string); writes answer `null`. */
export type KeyValueOutput = string | null;

/** Every key's value; a missing key holds the empty string. */
export type KeyValueState = ReadonlyMap<string, string>;

/** One operation on the key-value store. */
export type KeyValueOperation = Operation<KeyValueInput, KeyValueOutput>;

const emptyState: KeyValueState = new Map();

function write(state: KeyValueState, input: KeyValueInput): KeyValueState {
  if (input.kind === 'get') return state;
  const value = input.kind === 'put' ? input.value : (state.get(input.key) ?? '') + input.value;
  const next = new Map(state);
  // The empty string and a missing key read the same, so they must also hash the same.
  if (value === '') next.delete(input.key);
  else next.set(input.key, value);
  return next;
}

// The checker hashes the state after every step and most steps (reads) keep the state object, so
// each state's hash is computed once.
const hashes = new WeakMap<KeyValueState, string>();

/** Length-prefixed entries in key order: equal exactly for equal stores. */
function hashOf(state: KeyValueState): string {
  let hash = '';
  for (const key of [...state.keys()].sort()) {
    const value = state.get(key) ?? '';
    hash += `${key.length}:${key}${value.length}:${value}`;
  }
  return hash;
}

/**
 * The sequential model of a string key-value store with `put`, `append` and `get`, where a missing
 * key reads as the empty string. Keys are independent, so histories are checked one key at a time.
 */
export const keyValueModel: SequentialModel<KeyValueState, KeyValueInput, KeyValueOutput> =
  Object.freeze({
    init: () => emptyState,
    step(
      state: KeyValueState,
      input: KeyValueInput,
      output: KeyValueOutput,
    ): StepResult<KeyValueState> {
      if (input.kind === 'get') {
        return { ok: (output ?? '') === (state.get(input.key) ?? ''), state };
      }
      return { ok: true, state: write(state, input) };
    },
    stepPending: write,
    hash(state: KeyValueState): string {
      let hash = hashes.get(state);
      if (hash === undefined) {
        hash = hashOf(state);
        hashes.set(state, hash);
      }
      return hash;
    },
    partition: (operations: readonly KeyValueOperation[]) =>
      partitionByKey(operations, (operation) => operation.input.key),
    describeOperation(operation: KeyValueOperation): string {
      const input = operation.input;
      const key = JSON.stringify(input.key);
      if (input.kind !== 'get') return `${input.kind} ${key} ${JSON.stringify(input.value)}`;
      if (operation.status !== 'ok') return `get ${key}`;
      return `get ${key} -> ${JSON.stringify(operation.output ?? '')}`;
    },
    describeState(state: KeyValueState): string {
      if (state.size === 0) return 'every key empty';
      const keys = [...state.keys()].sort();
      return keys
        .map((key) => `${JSON.stringify(key)}=${JSON.stringify(state.get(key))}`)
        .join(' ');
    },
  });
