import { describe, expect, it } from 'vitest';
import { RaftError } from '../core/errors.js';
import { childLogger, createStreamLogger, describeError, type LogFields } from './logger.js';

function collect(format: 'json' | 'text', level: 'info' | 'warn' = 'info') {
  const lines: string[] = [];
  const logger = createStreamLogger({
    format,
    level,
    now: () => 0,
    write: (line) => lines.push(line),
  });
  return { logger, lines };
}

describe('createStreamLogger', () => {
  it('writes pino-style JSON lines with bindings and drops lines below its level', () => {
    const { logger, lines } = collect('json', 'warn');
    const child = logger.child!({ nodeId: 'n1' });
    child.info({ term: 2 }, 'not written');
    child.warn({ term: 3 }, 'leader lost');
    expect(lines).toEqual([
      '{"level":"warn","time":0,"msg":"leader lost","nodeId":"n1","term":3}\n',
    ]);
  });

  it('writes text lines with quoted values where needed', () => {
    const { logger, lines } = collect('text');
    logger.info({ peer: 'n2', reason: 'wrong secret' }, 'handshake rejected');
    expect(lines).toEqual([
      '1970-01-01T00:00:00.000Z INFO  handshake rejected peer=n2 reason="wrong secret"\n',
    ]);
  });

  it('writes an error with its code and cause chain, never as {}', () => {
    const { logger, lines } = collect('json');
    const cause = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    logger.error({ error: new RaftError('STORAGE_FAILED', 'save failed', { cause }) }, 'stopping');
    const record = JSON.parse(lines[0]!) as { error: unknown };
    expect(record.error).toEqual({
      name: 'RaftError',
      message: 'save failed',
      code: 'STORAGE_FAILED',
      cause: { name: 'Error', message: 'no space left on device', code: 'ENOSPC' },
    });
  });

  it('rejects an unknown level or format', () => {
    expect(() => createStreamLogger({ level: 'loud' as 'info', write: () => undefined })).toThrow(
      /unknown log level/,
    );
    expect(() => createStreamLogger({ format: 'xml' as 'json', write: () => undefined })).toThrow(
      /unknown log format/,
    );
  });
});

describe('childLogger', () => {
  it('merges bindings itself for a logger without child()', () => {
    const seen: LogFields[] = [];
    const record = (fields: LogFields) => seen.push(fields);
    const plain = { trace: record, debug: record, info: record, warn: record, error: record };
    childLogger(childLogger(plain, { nodeId: 'n1' }), { peer: 'n2' }).info({ term: 1 }, 'x');
    expect(seen).toEqual([{ nodeId: 'n1', peer: 'n2', term: 1 }]);
  });

  it('stops following a cyclic cause chain', () => {
    const error = new Error('a');
    error.cause = error;
    let depth = 0;
    for (let value = describeError(error) as { cause?: unknown }; value.cause; depth++) {
      value = value.cause;
    }
    expect(depth).toBe(5);
  });
});
