import { RespReplyParser, type RespValue } from '../resp/resp-reply-parser.js';
import { KvStateMachine } from './kv-state-machine.js';
import { encodeWriteBatch, type WriteOperation } from './write-batch-codec.js';

/** Arguments as bytes. */
export const bytes = (args: readonly string[]): Uint8Array[] => args.map((arg) => Buffer.from(arg));

/** One plain command of a batch. */
export const command = (args: readonly string[]): WriteOperation => ({
  kind: 'command',
  args: bytes(args),
});

/** A MULTI … EXEC transaction of a batch, with its WATCHed keys and their indexes. */
export const transaction = (
  commands: readonly string[][],
  watched: readonly [string, number][] = [],
): WriteOperation => ({
  kind: 'transaction',
  watched: watched.map(([key, index]) => ({ key: Buffer.from(key), index })),
  commands: commands.map(bytes),
});

/** Drives a state machine the way the log does: batches stamped with a proposer's clock. */
export class KvHarness {
  readonly machine: KvStateMachine;
  #index: number;

  /** `lastIndex`: the index of the last entry already applied (a restored state's). */
  constructor(lastIndex = 0, machine = new KvStateMachine()) {
    this.#index = lastIndex;
    this.machine = machine;
  }

  /** The index the next entry will get. */
  get nextIndex(): number {
    return this.#index + 1;
  }

  write(timeMs: number, ...operations: string[][]): RespValue[] {
    return this.apply(timeMs, ...operations.map(command));
  }

  apply(timeMs: number, ...operations: WriteOperation[]): RespValue[] {
    const entry = encodeWriteBatch({ timeMs, operations });
    const replies = this.machine.apply(entry, { index: ++this.#index, term: 1 });
    return new RespReplyParser().push(replies);
  }

  read(...operations: string[][]): RespValue[] {
    return new RespReplyParser().push(this.machine.query({ operations: operations.map(bytes) }));
  }
}

export const ok: RespValue = { type: 'simple', value: 'OK' };
export const nil: RespValue = { type: 'bulk', value: null };
export const bulk = (text: string): RespValue => ({ type: 'bulk', value: Buffer.from(text) });
export const integer = (value: number): RespValue => ({ type: 'integer', value: BigInt(value) });
export const array = (...values: RespValue[]): RespValue => ({ type: 'array', value: values });
export const error = (message: string): RespValue => ({ type: 'error', message });
export const wrongType = error('WRONGTYPE Operation against a key holding the wrong kind of value');
