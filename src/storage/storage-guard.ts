import { RaftError } from '../core/index.js';

/**
 * The lifecycle checks every storage adapter makes before a call, with the same codes and words
 * everywhere: a call on a storage that is not open (or not bootstrapped) is a bug in the caller
 * and throws `INVARIANT`; after a failed write nothing half-written can be trusted, so every later
 * call throws `STORAGE_FAILED` with the first failure as its cause.
 */
export class StorageGuard {
  #open = false;
  #failure: RaftError | null = null;

  /** Whether `open` succeeded and `close` has not been called since. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** The failure that made the storage refuse calls, if any. */
  get failure(): RaftError | null {
    return this.#failure;
  }

  /** `open` succeeded: calls are accepted again (a reopened storage re-read what is durable). */
  opened(): void {
    this.#open = true;
    this.#failure = null;
  }

  closed(): void {
    this.#open = false;
  }

  /** Records a failed write and returns it, for the caller to throw. */
  fail(error: RaftError): RaftError {
    this.#failure = error;
    return error;
  }

  /** Throws `INVARIANT` unless the storage is open. */
  assertOpen(): void {
    if (!this.#open) throw invalidCall('storage is not open');
  }

  /** Throws unless the storage is open and no write has failed. */
  assertUsable(): void {
    this.assertOpen();
    if (this.#failure !== null) {
      throw new RaftError('STORAGE_FAILED', 'storage refuses calls after an earlier failure', {
        cause: this.#failure,
      });
    }
  }
}

/** Throws `INVARIANT` unless the storage holds a bootstrapped state; returns that state. */
export function assertBootstrapped<State>(state: State | null): State {
  if (state === null) throw invalidCall('storage is not bootstrapped');
  return state;
}

/** Throws `INVARIANT` when `bootstrap` is called on a storage that already holds a state. */
export function assertNotBootstrapped(bootstrapped: boolean): void {
  if (bootstrapped) throw invalidCall('bootstrap on a bootstrapped storage');
}

function invalidCall(what: string): RaftError {
  return new RaftError('INVARIANT', `invalid storage call: ${what}`);
}
