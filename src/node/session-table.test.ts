import { describe, expect, it } from 'vitest';
import type { SessionEntry } from '../core/index.js';
import type { SessionTag } from '../transport/transport.js';
import { CommandRejection } from './command-rejection.js';
import { encodeSessionEntry, type SessionLimits } from './session-envelope.js';
import { SessionTable, type SessionOutcome } from './session-table.js';
import { jsonResultCodec } from './state-machine.js';

const limits: SessionLimits = { timeoutMs: 1000, resultsMax: 4, sessionsMax: 3 };

/** Builds the log a leader would write, entry by entry, and applies it to any number of tables. */
class LogBuilder {
  readonly entries: SessionEntry[] = [];

  register(timeMs: number, override: Partial<SessionLimits> = {}): number {
    return this.#append({ kind: 'register' }, new Uint8Array(0), timeMs, override);
  }

  command(
    timeMs: number,
    sessionId: number,
    sequence: number,
    lowestUnacknowledged = 0,
    text = `c${sequence}`,
  ): number {
    const tag = { kind: 'command', sessionId, sequence, lowestUnacknowledged } as const;
    return this.#append(tag, new TextEncoder().encode(text), timeMs);
  }

  #append(
    tag: SessionTag,
    command: Uint8Array,
    timeMs: number,
    override: Partial<SessionLimits> = {},
  ): number {
    const index = this.entries.length + 1;
    const draft = encodeSessionEntry(tag, command, { timeMs, limits: { ...limits, ...override } });
    this.entries.push({ ...draft, index, term: 1 });
    return index;
  }
}

/** Applies entries as the applier does: a command let through gets the state machine's result. */
function applyAll(table: SessionTable, entries: readonly SessionEntry[]): SessionOutcome[] {
  return entries.map((entry) => {
    const outcome = table.apply(entry);
    if (outcome.kind === 'apply') table.record(outcome.sessionId, outcome.sequence, entry.index);
    return outcome;
  });
}

function kinds(outcomes: readonly SessionOutcome[]): string[] {
  return outcomes.map((outcome) =>
    outcome.kind === 'refuse' ? `refuse ${outcome.error.code}` : outcome.kind,
  );
}

describe('§6.3 session table', () => {
  it('registers a session at its log index and answers a repeated sequence with the first result', () => {
    const log = new LogBuilder();
    const session = log.register(0);
    log.command(10, session, 1);
    log.command(20, session, 1);
    const table = new SessionTable();
    const outcomes = applyAll(table, log.entries);
    expect(outcomes[0]).toEqual({ kind: 'answer', result: session, duplicate: false });
    expect(kinds(outcomes)).toEqual(['answer', 'apply', 'answer']);
    // "it responds immediately without re-executing the request": the first result, from entry 2.
    expect(outcomes[2]).toEqual({ kind: 'answer', result: 2, duplicate: true });
  });

  it('refuses a command of a session it never registered', () => {
    const log = new LogBuilder();
    log.command(0, 42, 1);
    const [outcome] = applyAll(new SessionTable(), log.entries);
    expect(outcome?.kind === 'refuse' && outcome.error.code).toBe('SESSION_EXPIRED');
  });

  it('expires a session by the time leaders stamped into the log, the same on every server', () => {
    const log = new LogBuilder();
    const idle = log.register(0);
    const busy = log.register(0);
    log.command(900, busy, 1);
    log.command(1500, busy, 2); // log time 1500: idle's last use (0) is 1500 ms ago, over 1000
    log.command(1600, idle, 1);
    const first = new SessionTable();
    const second = new SessionTable();
    const outcomes = applyAll(first, log.entries);
    // Another server applies the same entries much later by its own clock: nothing changes.
    expect(kinds(applyAll(second, log.entries))).toEqual(kinds(outcomes));
    expect(kinds(outcomes)).toEqual([
      'answer',
      'answer',
      'apply',
      'apply',
      'refuse SESSION_EXPIRED',
    ]);
    expect(first.encode(jsonResultCodec)).toEqual(second.encode(jsonResultCodec));
  });

  it('drops an idle session once log time passes its timeout, whoever else uses the table', () => {
    const log = new LogBuilder();
    const idle = log.register(0);
    const busy = log.register(0);
    log.command(500, busy, 1);
    log.command(900, busy, 2);
    log.command(1200, busy, 3); // idle's last use (0) is 1200 ms ago, over 1000
    const table = new SessionTable();
    const [registerIdle, registerBusy, ...commands] = log.entries;
    applyAll(table, [registerIdle!, registerBusy!, commands[0]!, commands[1]!]);
    // The size first: `has` would drop an expired session by itself.
    expect(table.size).toBe(2);
    applyAll(table, [commands[2]!]);
    expect(table.size).toBe(1);
    expect([table.has(idle), table.has(busy)]).toEqual([false, true]);
  });

  it('never moves log time backwards when a new leader stamps an earlier clock', () => {
    const log = new LogBuilder();
    const session = log.register(5000);
    log.command(100, session, 1); // a leader whose clock is behind
    const table = new SessionTable();
    expect(kinds(applyAll(table, log.entries))).toEqual(['answer', 'apply']);
    expect(table.logTimeMs).toBe(5000);
  });

  it('evicts the least recently used session when a registration finds the table full', () => {
    const log = new LogBuilder();
    const first = log.register(0);
    const second = log.register(1);
    const third = log.register(2);
    log.command(3, first, 1); // first is now the most recently used; second the least
    const fourth = log.register(4);
    const table = new SessionTable();
    applyAll(table, log.entries);
    expect(table.size).toBe(3);
    expect([first, second, third, fourth].map((id) => table.has(id))).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });

  it('keeps the order of use across repeated use of one session and a restore in between', () => {
    const log = new LogBuilder();
    const first = log.register(0, { sessionsMax: 2 });
    const second = log.register(1, { sessionsMax: 2 });
    log.command(2, first, 1);
    log.command(3, first, 2); // first again: already the most recently used
    const used = new SessionTable();
    applyAll(used, log.entries);
    // A table that last moved `second` restores one where `first` was used last...
    const restored = new SessionTable();
    applyAll(restored, log.entries.slice(0, 2));
    restored.restore(used.encode(jsonResultCodec), jsonResultCodec);
    // ...then `second` is used, so `first` is the least recently used and goes.
    const more = new LogBuilder();
    more.entries.push(...log.entries);
    more.command(4, second, 1);
    const third = more.register(5, { sessionsMax: 2 });
    applyAll(restored, more.entries.slice(-2));
    expect([first, second, third].map((id) => restored.has(id))).toEqual([false, true, true]);
  });

  it('drops results the client acknowledged, and refuses those sequences afterwards', () => {
    const log = new LogBuilder();
    const session = log.register(0);
    log.command(1, session, 1);
    log.command(2, session, 2);
    log.command(3, session, 3, 3); // the client has the answers of 1 and 2
    log.command(4, session, 1, 3); // a late copy of 1
    log.command(5, session, 3, 3); // a retry of 3
    const outcomes = applyAll(new SessionTable(), log.entries);
    expect(kinds(outcomes)).toEqual([
      'answer',
      'apply',
      'apply',
      'apply',
      'refuse RESULT_DISCARDED',
      'answer',
    ]);
  });

  it('keeps at most resultsMax results per session, forgetting the lowest sequence first', () => {
    const log = new LogBuilder();
    const session = log.register(0);
    for (let sequence = 1; sequence <= 5; sequence++) log.command(sequence, session, sequence);
    log.command(6, session, 1); // its result was the one dropped: refused, never applied again
    log.command(7, session, 2);
    const outcomes = applyAll(new SessionTable(), log.entries);
    expect(kinds(outcomes.slice(-2))).toEqual(['refuse RESULT_DISCARDED', 'answer']);
  });

  it('carries the limits of each registration, so local options cannot make servers disagree', () => {
    const log = new LogBuilder();
    const short = log.register(0, { timeoutMs: 10 });
    const long = log.register(0, { timeoutMs: 10_000 });
    log.command(100, long, 1);
    log.command(100, short, 1);
    expect(kinds(applyAll(new SessionTable(), log.entries).slice(-2))).toEqual([
      'apply',
      'refuse SESSION_EXPIRED',
    ]);
  });

  it('round-trips through its snapshot encoding, order of use included', () => {
    const log = new LogBuilder();
    const first = log.register(0);
    const second = log.register(1);
    log.command(2, first, 1);
    log.command(3, second, 1);
    const table = new SessionTable();
    applyAll(table, log.entries);
    const restored = new SessionTable();
    restored.restore(table.encode(jsonResultCodec), jsonResultCodec);
    expect(restored.encode(jsonResultCodec)).toEqual(table.encode(jsonResultCodec));
    const more = new LogBuilder();
    more.entries.push(...log.entries);
    more.command(4, first, 1);
    const [again] = applyAll(restored, more.entries.slice(-1));
    expect(again).toEqual({ kind: 'answer', result: 3, duplicate: true });
  });

  it('remembers a state machine rejection as the answer, across its snapshot encoding too', () => {
    const log = new LogBuilder();
    const session = log.register(0);
    log.command(1, session, 1);
    log.command(2, session, 1);
    const table = new SessionTable();
    const first = table.apply(log.entries[0]!);
    expect(first.kind).toBe('answer');
    const second = table.apply(log.entries[1]!);
    expect(second.kind).toBe('apply');
    table.record(session, 1, new CommandRejection('TOO_LOW', 'balance is 5'));
    const restored = new SessionTable();
    restored.restore(table.encode(jsonResultCodec), jsonResultCodec);
    const again = restored.apply(log.entries[2]!);
    expect(again.kind === 'answer' && again.result).toEqual(
      new CommandRejection('TOO_LOW', 'balance is 5'),
    );
    expect(again.kind === 'answer' && again.result instanceof CommandRejection).toBe(true);
  });

  it('refuses a corrupt session entry the same way everywhere instead of failing the node', () => {
    const entry: SessionEntry = { kind: 'session', index: 1, term: 1, data: Uint8Array.of(9) };
    const outcome = new SessionTable().apply(entry);
    expect(outcome.kind === 'refuse' && outcome.error.code).toBe('INVALID_MESSAGE');
  });

  it('rejects a corrupt encoding with a typed error', () => {
    expect(() => new SessionTable().restore(Uint8Array.of(7), jsonResultCodec)).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
  });
});
