import {
  arityError,
  checkDataCommand,
  dataCommandKind,
  dataCommandSpec,
} from '../state/kv-commands.js';
import { holdsText, keyOf } from '../state/arguments.js';
import { queuedConnectionCommand } from '../state/queued-connection-commands.js';
import {
  encodedOperationBytes,
  type CommandArguments,
  type WriteOperation,
} from '../state/write-batch-codec.js';
import { errorReply, okReply, simpleStringReply } from '../resp/resp-writer.js';
import { authenticate, hello } from './connection-commands.js';
import { isLocalCommand, localCommandArity } from './local-commands.js';
import type { ConnectionState, ServerContext } from './server-context.js';

/** A request, classified: a write or read for the store, a local command, or a ready answer. */
export type Planned =
  | {
      readonly kind: 'write';
      readonly operation: WriteOperation;
      readonly bytes: number;
      /** EXEC: the connection's WATCHed keys join the transaction when it is proposed. */
      readonly withWatches?: true;
    }
  | { readonly kind: 'read'; readonly args: CommandArguments }
  | { readonly kind: 'watch'; readonly keys: readonly Buffer[] }
  | { readonly kind: 'local'; readonly name: string; readonly args: readonly Buffer[] }
  | {
      readonly kind: 'answer';
      readonly reply: Buffer;
      readonly thenClose?: true;
      /** EXEC, DISCARD and UNWATCH forget the WATCHed keys once the requests before ran. */
      readonly unwatch?: true;
    };

/** Commands that steer the connection itself; never queued inside MULTI. */
const transactionControl = new Set(['MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH']);

/** Commands answered before AUTH when a password is set. */
const allowedBeforeAuth = new Set(['AUTH', 'HELLO', 'QUIT']);

const queuedReply = simpleStringReply('QUEUED');

/** The transaction being queued between MULTI and EXEC. */
interface QueuedTransaction {
  readonly commands: CommandArguments[];
  bytes: number;
  /** A command was refused while queuing: EXEC answers EXECABORT and runs nothing. */
  failed: boolean;
}

/**
 * Classifies each request as it is parsed, in arrival order. Everything that is only about this
 * connection's request stream — MULTI queuing, AUTH, HELLO — is decided here, before earlier
 * requests have run, which is safe because it depends on nothing but the requests before it.
 */
export class RequestPlanner {
  readonly #context: ServerContext;
  readonly #state: ConnectionState;
  #transaction: QueuedTransaction | null = null;

  constructor(context: ServerContext, state: ConnectionState) {
    this.#context = context;
    this.#state = state;
  }

  plan(args: Buffer[]): Planned {
    const name = keyOf(args[0]!).toUpperCase();
    this.#state.lastCommand = name;
    this.#state.lastActivityMs = Date.now();
    if (!this.#state.authenticated && !allowedBeforeAuth.has(name)) {
      return answer(errorReply('NOAUTH Authentication required.'));
    }
    if (name === 'AUTH') return answer(authenticate(args, this.#context, this.#state));
    if (name === 'HELLO') return answer(hello(args, this.#context, this.#state));
    if (this.#transaction !== null) return this.#queue(name, args, this.#transaction);
    switch (name) {
      case 'MULTI':
        if (args.length !== 1) return answer(errorReply(arityError(name, 1, args.length)!));
        this.#transaction = { commands: [], bytes: 0, failed: false };
        this.#state.inTransaction = true;
        return answer(okReply);
      case 'EXEC':
        return answer(errorReply('ERR EXEC without MULTI'));
      case 'DISCARD':
        return answer(errorReply('ERR DISCARD without MULTI'));
      case 'WATCH': {
        const problem = arityError(name, -2, args.length);
        return problem === null
          ? { kind: 'watch', keys: args.slice(1) }
          : answer(errorReply(problem));
      }
      case 'UNWATCH':
        return { kind: 'answer', reply: okReply, unwatch: true };
    }
    const kind = dataCommandKind(name);
    if (kind !== null) {
      const problem = checkDataCommand(name, args);
      if (problem !== null) return answer(errorReply(problem));
      // The log holds the name upper-cased; most clients already send it so, and keep their bytes.
      const spelled = args[0]!.byteLength === name.length && holdsText(args[0]!, 0, name);
      if (!spelled) args[0] = Buffer.from(name, 'latin1');
      if (kind === 'read') return { kind, args };
      const operation: WriteOperation = { kind: 'command', args };
      return { kind, operation, bytes: encodedOperationBytes(operation) };
    }
    if (isLocalCommand(name)) {
      const problem = arityError(name, localCommandArity(name), args.length);
      return problem === null ? { kind: 'local', name, args } : answer(errorReply(problem));
    }
    return answer(errorReply(unknownCommandMessage(args)));
  }

  /** A request between MULTI and EXEC. */
  #queue(name: string, args: Buffer[], transaction: QueuedTransaction): Planned {
    switch (name) {
      case 'EXEC':
        return this.#exec(transaction);
      case 'DISCARD':
        this.#endTransaction();
        return { kind: 'answer', reply: okReply, unwatch: true };
      case 'MULTI':
        return answer(errorReply('ERR MULTI calls can not be nested'));
      case 'WATCH':
        // As in Redis: refused, but the transaction goes on.
        return answer(errorReply('ERR WATCH inside MULTI is not allowed'));
      case 'QUIT':
        // As in Redis: not queued; the connection closes and the transaction with it.
        this.#endTransaction();
        return { kind: 'answer', reply: okReply, thenClose: true };
    }
    const problem = this.#queueProblem(name, args, transaction);
    if (problem !== null) {
      // As in Redis: the command is refused now and the whole transaction at EXEC.
      transaction.failed = true;
      return answer(errorReply(problem));
    }
    args[0] = Buffer.from(name, 'latin1');
    transaction.commands.push(args);
    transaction.bytes += encodedOperationBytes({ kind: 'command', args });
    return answer(queuedReply);
  }

  /**
   * Only what Redis checks when queuing: the command exists, may be queued, and has a valid
   * number of arguments. Anything else (a syntax error, a value that is not an integer) is a
   * run-time error: that command's entry of the EXEC reply, while the others still run.
   */
  #queueProblem(name: string, args: Buffer[], transaction: QueuedTransaction): string | null {
    const queuedConnection = queuedConnectionCommand(name);
    if (dataCommandKind(name) === null && queuedConnection === undefined) {
      return isLocalCommand(name) || transactionControl.has(name)
        ? 'ERR Command not allowed inside a transaction'
        : unknownCommandMessage(args);
    }
    const limits = this.#context.limits;
    const bytes = transaction.bytes + encodedOperationBytes({ kind: 'command', args });
    if (
      transaction.commands.length >= limits.transactionCommandsMax ||
      bytes > limits.batchBytesMax - limits.watchedKeyBytesMax
    ) {
      return `ERR transaction too large: at most ${limits.transactionCommandsMax} commands and ${limits.batchBytesMax - limits.watchedKeyBytesMax} bytes`;
    }
    return arityError(name, dataCommandSpec(name)?.arity ?? queuedConnection!.arity, args.length);
  }

  #exec(transaction: QueuedTransaction): Planned {
    this.#endTransaction();
    if (transaction.failed) {
      return {
        kind: 'answer',
        reply: errorReply('EXECABORT Transaction discarded because of previous errors.'),
        unwatch: true,
      };
    }
    const operation: WriteOperation = {
      kind: 'transaction',
      watched: [],
      commands: transaction.commands,
    };
    return {
      kind: 'write',
      operation,
      bytes: encodedOperationBytes(operation) + this.#context.limits.watchedKeyBytesMax,
      withWatches: true,
    };
  }

  #endTransaction(): void {
    this.#transaction = null;
    this.#state.inTransaction = false;
  }
}

function answer(reply: Buffer): Planned {
  return { kind: 'answer', reply };
}

function unknownCommandMessage(args: readonly Buffer[]): string {
  // Redis's wording: each argument quoted and followed by a space, until 128 characters.
  let preview = '';
  for (let position = 1; position < args.length && preview.length < 128; position++) {
    preview += `'${args[position]!.toString('utf8').slice(0, 128 - preview.length)}' `;
  }
  return `ERR unknown command '${args[0]!.toString('utf8').slice(0, 128)}', with args beginning with: ${preview}`;
}
