import { describe, expect, it } from 'vitest';
import { formatTraceTable } from './format-trace-table.js';
import { sampleTrace } from './sample-trace.test-helpers.js';

describe('formatTraceTable', () => {
  it('prints one line per event with a state column per node', () => {
    expect(formatTraceTable(sampleTrace)).toBe(
      [
        'time  n1                n2      n3  event',
        '----  ----------------  ------  --  --------------------------------------------------------------',
        ' 0.0  candidate term=1              n1 role',
        ' 0.0                                n1 -> n2: requestVote term=1 last=0/0',
        ' 0.0                                n1 -> n3: requestVote term=1 last=0/0',
        ' 3.0                    term=1      n2 <- n1: requestVote term=1 last=0/0',
        ' 3.0                                n2 -> n1: requestVoteResponse term=1 granted',
        ' 4.0                                n3 fault: crash',
        ' 5.5                                n1 <- n2: requestVoteResponse term=1 granted',
        ' 5.5  leader                        n1 role',
        ' 6.0                                n1 client: put x="a;b" #1 <tag>',
        ' 7.0                                n1 -> n2: appendEntries term=1 prev=0/0 commit=0 entries=[1/1]',
        '10.0  last=1 commit=1               n1 commit',
        '10.0                                n1 note: line one\\nline two',
      ].join('\n'),
    );
  });

  it('shows only the chosen node columns, in the chosen order, with whole-number times', () => {
    const rows = sampleTrace.filter((row) => Number.isInteger(row.time)).slice(0, 4);
    expect(formatTraceTable(rows, { nodes: ['n2', 'n1'] })).toBe(
      [
        'time  n2      n1                event',
        '----  ------  ----------------  -------------------------------------',
        '   0          candidate term=1  n1 role',
        '   0                            n1 -> n2: requestVote term=1 last=0/0',
        '   0                            n1 -> n3: requestVote term=1 last=0/0',
        '   3  term=1                    n2 <- n1: requestVote term=1 last=0/0',
      ].join('\n'),
    );
  });

  it('sorts node columns with numbers compared by value and keeps detail beside the message', () => {
    const table = formatTraceTable([
      { time: 1, node: 'n10', event: 'send', peer: 'n2', message: 'heartbeat', detail: 'dropped' },
      { time: 2, node: 'n2', event: 'apply', state: { commit: 3 } },
    ]);
    expect(table).toBe(
      [
        'time  n2        n10  event',
        '----  --------  ---  ------------------------------',
        '   1                 n10 -> n2: heartbeat (dropped)',
        '   2  commit=3       n2 apply',
      ].join('\n'),
    );
  });

  it('formats more rows than a function call takes arguments', () => {
    const rowCount = 140_000;
    const rows = Array.from({ length: rowCount }, (_, index) => ({
      time: index,
      node: 'n1',
      event: 'commit' as const,
      state: { commit: index },
    }));
    const lines = formatTraceTable(rows).split('\n');
    expect(lines).toHaveLength(rowCount + 2);
    expect(lines.at(-1)).toBe('139999  commit=139999  n1 commit');
  });

  it('prints just the header for an empty trace', () => {
    expect(formatTraceTable([])).toBe(['time  event', '----  -----'].join('\n'));
  });
});
