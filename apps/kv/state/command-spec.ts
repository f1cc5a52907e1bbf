import type { Keyspace } from './keyspace.js';

/** How a command is served: writes through the log, reads against the local state. */
export type DataCommandKind = 'write' | 'read';

/** Where the keys are among a command's arguments (COMMAND INFO reports it to clients). */
export interface KeyPositions {
  /** First key's position (the name is 0); 0 when the command takes no key. */
  readonly first: number;
  /** Last key's position; -1 for the last argument. */
  readonly last: number;
  readonly step: number;
}

/** One data command: its shape, its checks before proposing, and what it does to the keyspace. */
export interface DataCommandSpec {
  readonly name: string;
  readonly kind: DataCommandKind;
  /** Redis convention: N means exactly N arguments (name included), -N means at least N. */
  readonly arity: number;
  readonly keys: KeyPositions;
  /**
   * An error message for arguments no state could accept, or null. Runs before anything is
   * proposed (and at queue time inside MULTI), so a request that cannot succeed never reaches
   * the log.
   */
  readonly check?: (args: readonly Uint8Array[]) => string | null;
  /**
   * Runs against the keyspace and returns the RESP reply. Throws `CommandError` before changing
   * anything when it cannot run against this state (WRONGTYPE, a value that is not an integer).
   */
  readonly run: (keyspace: Keyspace, args: readonly Uint8Array[]) => Buffer;
}

export const noKeys: KeyPositions = Object.freeze({ first: 0, last: 0, step: 0 });
export const firstKey: KeyPositions = Object.freeze({ first: 1, last: 1, step: 1 });
export const allKeys: KeyPositions = Object.freeze({ first: 1, last: -1, step: 1 });
export const keyValuePairs: KeyPositions = Object.freeze({ first: 1, last: -1, step: 2 });
export const twoKeys: KeyPositions = Object.freeze({ first: 1, last: 2, step: 1 });
