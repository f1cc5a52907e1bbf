import { RaftError } from '../../core/errors.js';
import type { KeyValueInput, KeyValueOperation } from './key-value-model.js';
import type { ProcessId } from './operation.js';
import { parseEdnMap, type EdnValue } from './parse-edn-map.js';

const eventTypes = new Set(['invoke', 'ok', 'fail', 'info']);
const functions = new Set(['put', 'append', 'get']);

interface Event {
  readonly lineNumber: number;
  readonly process: ProcessId;
  readonly type: string;
  readonly input: KeyValueInput;
  readonly value: string | null;
}

interface OpenOperation {
  readonly index: number;
  readonly event: Event;
}

function invalid(lineNumber: number, reason: string): RaftError {
  return new RaftError('INVALID_MESSAGE', `line ${lineNumber}: ${reason}`, {
    details: { line: lineNumber },
  });
}

function keywordOf(value: EdnValue | undefined): string | undefined {
  return value !== null && typeof value === 'object' ? value.keyword : undefined;
}

function textOf(value: EdnValue | undefined): string | null | undefined {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** Reads one line's event, or null for a line that is not a client event (blank, comment, nemesis). */
function readEvent(line: string, lineNumber: number): Event | null {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith(';')) return null;
  const fields = parseEdnMap(trimmed, lineNumber);
  const rawProcess = fields.get('process');
  if (keywordOf(rawProcess) === 'nemesis') return null;
  if (typeof rawProcess !== 'number') throw invalid(lineNumber, ':process must be an integer');
  const type = keywordOf(fields.get('type'));
  if (type === undefined || !eventTypes.has(type)) {
    throw invalid(lineNumber, ':type must be :invoke, :ok, :fail or :info');
  }
  const kind = keywordOf(fields.get('f'));
  if (kind === undefined || !functions.has(kind)) {
    throw invalid(lineNumber, ':f must be :put, :append or :get');
  }
  const key = textOf(fields.get('key'));
  if (typeof key !== 'string') throw invalid(lineNumber, ':key must be a string or an integer');
  const value = textOf(fields.get('value'));
  if (value === undefined) throw invalid(lineNumber, ':value must be a string, an integer or nil');
  if (kind === 'get') return { lineNumber, process: rawProcess, type, input: { kind, key }, value };
  if (value === null) throw invalid(lineNumber, `:${kind} needs a :value`);
  const input: KeyValueInput = { kind: kind === 'put' ? 'put' : 'append', key, value };
  return { lineNumber, process: rawProcess, type, input, value };
}

function sameRequest(left: KeyValueInput, right: KeyValueInput): boolean {
  return left.kind === right.kind && left.key === right.key;
}

/**
 * Parses a Jepsen-style key-value history, one EDN map per line:
 * `{:process P, :type :invoke|:ok|:fail|:info, :f :put|:append|:get, :key "K", :value "V"|nil}`.
 *
 * An `:invoke` opens an operation for its process and the process's next `:ok`, `:fail` or `:info`
 * closes it. `:info` (and an invoke never closed) makes the operation pending; `:fail` marks it
 * failed. Times are line numbers, which order events as the file does. Blank lines, `;` comments
 * and nemesis events are skipped. A malformed line throws a RaftError with code `INVALID_MESSAGE`
 * and `details.line`.
 */
export function parseJepsenHistory(text: string): KeyValueOperation[] {
  const operations: (KeyValueOperation | null)[] = [];
  const invocations: Event[] = [];
  const open = new Map<ProcessId, OpenOperation>();
  text.split('\n').forEach((line, lineIndex) => {
    const event = readEvent(line, lineIndex + 1);
    if (event === null) return;
    const current = open.get(event.process);
    if (event.type === 'invoke') {
      if (current !== undefined) {
        throw invalid(
          event.lineNumber,
          `process ${event.process} invokes while its operation from line ${current.event.lineNumber} is open`,
        );
      }
      open.set(event.process, { index: operations.length, event });
      operations.push(null);
      invocations.push(event);
      return;
    }
    if (current === undefined) {
      throw invalid(
        event.lineNumber,
        `:${event.type} for process ${event.process} without an :invoke`,
      );
    }
    if (!sameRequest(current.event.input, event.input)) {
      throw invalid(
        event.lineNumber,
        `completion does not match the :invoke on line ${current.event.lineNumber}`,
      );
    }
    open.delete(event.process);
    operations[current.index] = complete(current.event, event);
  });
  return operations.map((operation, index) => operation ?? pending(invocations[index]!));
}

function complete(invocation: Event, completion: Event): KeyValueOperation {
  const base = {
    process: invocation.process,
    input: invocation.input,
    callTime: invocation.lineNumber,
  };
  if (completion.type === 'info') return { ...base, status: 'pending' };
  const returnTime = completion.lineNumber;
  if (completion.type === 'fail') return { ...base, status: 'fail', returnTime };
  const output = invocation.input.kind === 'get' ? completion.value : null;
  return { ...base, status: 'ok', output, returnTime };
}

function pending(invocation: Event): KeyValueOperation {
  return {
    process: invocation.process,
    input: invocation.input,
    callTime: invocation.lineNumber,
    status: 'pending',
  };
}
