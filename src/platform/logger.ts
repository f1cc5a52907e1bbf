/** Severity of a log line, from the most verbose to the most severe. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Every level, most verbose first; a logger set to one level writes it and those after it. */
export const logLevels: readonly LogLevel[] = Object.freeze([
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
]);

/** Structured fields of one line: `{ nodeId: 'n1', term: 4 }`. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Where raftkit writes what it does. The shape is pino's (`logger.info({ fields }, 'message')`,
 * `child(bindings)`), so a pino logger plugs straight in; so does anything with these methods.
 * raftkit never logs unless given one: the default is {@link silentLogger}.
 */
export interface Logger {
  trace(fields: LogFields, message: string): void;
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  /** A logger that adds `bindings` to every line. Optional: without it raftkit merges them itself. */
  child?(bindings: LogFields): Logger;
}

const ignore = (): void => undefined;

/** Writes nothing. The default everywhere a logger is optional. */
export const silentLogger: Logger = Object.freeze({
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});

/** `logger` with `bindings` on every line, through its own `child` when it has one. */
export function childLogger(logger: Logger, bindings: LogFields): Logger {
  if (logger.child !== undefined) return logger.child(bindings);
  const bound =
    (level: Exclude<LogLevel, 'fatal'>) =>
    (fields: LogFields, message: string): void => {
      logger[level]({ ...bindings, ...fields }, message);
    };
  return {
    trace: bound('trace'),
    debug: bound('debug'),
    info: bound('info'),
    warn: bound('warn'),
    error: bound('error'),
    child: (more) => childLogger(logger, { ...bindings, ...more }),
  };
}

/** Options of {@link createStreamLogger}. */
export interface StreamLoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  readonly level?: LogLevel;
  /** `json`: one JSON object per line; `text`: `time LEVEL message key=value…`. Default `text`. */
  readonly format?: 'json' | 'text';
  /** Receives each finished line, newline included (e.g. `process.stderr.write`). */
  readonly write: (line: string) => void;
  /** The time of a line, in milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Fields on every line. */
  readonly bindings?: LogFields;
}

/**
 * A small logger that writes lines to a stream, for servers that bring no logger of their own.
 * JSON lines follow pino's field names (`level`, `time`, `msg`) so the usual tools read them.
 * An `Error` in a field is written with its message, code and cause chain, never as `{}`.
 */
export function createStreamLogger(options: StreamLoggerOptions): Logger {
  const threshold = logLevels.indexOf(options.level ?? 'info');
  if (threshold < 0) throw new TypeError(`unknown log level ${String(options.level)}`);
  const format = options.format ?? 'text';
  if (format !== 'json' && format !== 'text') {
    throw new TypeError(`unknown log format ${String(format)}`);
  }
  const now = options.now ?? Date.now;
  const build = (bindings: LogFields): Logger => {
    const line =
      (level: Exclude<LogLevel, 'fatal'>) =>
      (fields: LogFields, message: string): void => {
        if (logLevels.indexOf(level) < threshold) return;
        const all = { ...bindings, ...fields };
        options.write(
          format === 'json'
            ? jsonLine(level, now(), message, all)
            : textLine(level, now(), message, all),
        );
      };
    return {
      trace: line('trace'),
      debug: line('debug'),
      info: line('info'),
      warn: line('warn'),
      error: line('error'),
      child: (more) => build({ ...bindings, ...more }),
    };
  };
  return build(options.bindings ?? {});
}

/** Deepest `cause` chain followed when describing an error; causes can be cyclic. */
const causeDepthMax = 5;

/** An error as plain data: name, message, code and causes. Anything else is returned as is. */
export function describeError(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) return value;
  const code = (value as { code?: unknown }).code;
  return {
    name: value.name,
    message: value.message,
    ...(code === undefined ? {} : { code }),
    ...(value.cause === undefined || depth >= causeDepthMax
      ? {}
      : { cause: describeError(value.cause, depth + 1) }),
  };
}

function plain(fields: LogFields): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) result[key] = describeError(value);
  return result;
}

function jsonLine(level: LogLevel, time: number, message: string, fields: LogFields): string {
  const record = { level, time, msg: message, ...plain(fields) };
  return (
    JSON.stringify(record, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    ) + '\n'
  );
}

function textLine(level: LogLevel, time: number, message: string, fields: LogFields): string {
  const pairs = Object.entries(plain(fields)).map(([key, value]) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return `${key}=${/[\s"=]/.test(text ?? '') ? JSON.stringify(text) : text}`;
  });
  const head = `${new Date(time).toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
  return (pairs.length === 0 ? head : `${head} ${pairs.join(' ')}`) + '\n';
}
