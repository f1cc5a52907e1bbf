import { describe, expect, it } from 'vitest';
import { RaftError } from '../../core/errors.js';
import { parseJepsenHistory } from './parse-jepsen-history.js';

function errorOf(text: string): RaftError {
  try {
    parseJepsenHistory(text);
  } catch (error) {
    if (error instanceof RaftError) return error;
    throw error;
  }
  throw new Error('expected the history to be rejected');
}

describe('parseJepsenHistory', () => {
  it('pairs each invoke with its process’s next completion, timed by line number', () => {
    const history = parseJepsenHistory(
      [
        '{:process 0, :type :invoke, :f :put, :key "x", :value "a b"}',
        '{:process 1, :type :invoke, :f :get, :key "x", :value nil}',
        '{:process 0, :type :ok, :f :put, :key "x", :value "a b"}',
        '{:process 1, :type :ok, :f :get, :key "x", :value "a b"}',
        '',
      ].join('\n'),
    );
    expect(history).toEqual([
      {
        process: 0,
        input: { kind: 'put', key: 'x', value: 'a b' },
        status: 'ok',
        output: null,
        callTime: 1,
        returnTime: 3,
      },
      {
        process: 1,
        input: { kind: 'get', key: 'x' },
        status: 'ok',
        output: 'a b',
        callTime: 2,
        returnTime: 4,
      },
    ]);
  });

  it('makes :info and never-completed operations pending and :fail operations failed', () => {
    const history = parseJepsenHistory(
      [
        '{:process 0, :type :invoke, :f :append, :key "x", :value "1"}',
        '{:process 0, :type :info, :f :append, :key "x", :value "1"}',
        '{:process 1, :type :invoke, :f :put, :key "x", :value "2"}',
        '{:process 1, :type :fail, :f :put, :key "x", :value "2"}',
        '{:process 2, :type :invoke, :f :get, :key "x", :value nil}',
      ].join('\n'),
    );
    expect(history.map((operation) => operation.status)).toEqual(['pending', 'fail', 'pending']);
  });

  it('skips blank lines, comments and nemesis events, and reads strings with escapes', () => {
    const history = parseJepsenHistory(
      [
        '; a comment',
        '{:process :nemesis, :type :info, :f :start, :value nil}',
        '{:process 3, :type :invoke, :f :put, :key 7, :value "say \\"hi\\"\\n"}',
        '   ',
        '{:process 3, :type :ok, :f :put, :key 7, :value "say \\"hi\\"\\n", :time 12}',
      ].join('\n'),
    );
    expect(history).toEqual([
      {
        process: 3,
        input: { kind: 'put', key: '7', value: 'say "hi"\n' },
        status: 'ok',
        output: null,
        callTime: 3,
        returnTime: 5,
      },
    ]);
  });

  it.each([
    ['{:process 0, :type :invoke, :f :get, :key "x", :value nil', 'unexpected end of line'],
    ['{:process 0, :type :invoke, :f :get, :key "x, :value nil}', 'unterminated string'],
    ['{:process 0, :type :begin, :f :get, :key "x", :value nil}', ':type'],
    ['{:process 0, :type :invoke, :f :cas, :key "x", :value nil}', ':f'],
    ['{:process 0, :type :invoke, :f :put, :key "x", :value nil}', ':put needs a :value'],
    ['{:process "a", :type :invoke, :f :get, :key "x", :value nil}', ':process'],
    ['{:process 0, :type :invoke, :f :get, :value nil}', ':key'],
    ['{:process 0, :type :invoke, :f :get, :key "x", :value [1]}', 'unexpected "["'],
    ['{:process 0, :process 1}', 'duplicate key'],
    ['{:process 0} trailing', 'unexpected text after the map'],
    ['(:process 0)', 'expected "{"'],
  ])('rejects the malformed line %s', (line, reason) => {
    const error = errorOf(`{:process 9, :type :invoke, :f :get, :key "y", :value nil}\n${line}`);
    expect(error).toMatchObject({ code: 'INVALID_MESSAGE', details: { line: 2 } });
    expect(error.message).toContain('line 2');
    expect(error.message).toContain(reason);
  });

  it('rejects completions without an invoke, mismatched ones and double invokes', () => {
    const invoke = '{:process 0, :type :invoke, :f :get, :key "x", :value nil}';
    const orphan = errorOf('{:process 0, :type :ok, :f :get, :key "x", :value ""}');
    expect(orphan.details).toMatchObject({ line: 1 });
    expect(orphan.message).toContain('without an :invoke');
    const mismatched = errorOf(`${invoke}\n{:process 0, :type :ok, :f :get, :key "z", :value ""}`);
    expect(mismatched.details).toMatchObject({ line: 2 });
    expect(mismatched.message).toContain('does not match the :invoke on line 1');
    const doubled = errorOf(`${invoke}\n${invoke}`);
    expect(doubled.details).toMatchObject({ line: 2 });
    expect(doubled.message).toContain('is open');
  });
});
