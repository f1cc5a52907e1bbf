import type { TraceRow } from './trace-row.js';

/** A three-node election, a crash and a first commit, with text that needs escaping. */
export const sampleTrace: readonly TraceRow[] = [
  { time: 0, node: 'n1', event: 'role', state: { role: 'candidate', term: 1 } },
  { time: 0, node: 'n1', event: 'send', peer: 'n2', message: 'requestVote term=1 last=0/0' },
  { time: 0, node: 'n1', event: 'send', peer: 'n3', message: 'requestVote term=1 last=0/0' },
  {
    time: 3,
    node: 'n2',
    event: 'receive',
    peer: 'n1',
    message: 'requestVote term=1 last=0/0',
    state: { term: 1 },
  },
  { time: 3, node: 'n2', event: 'send', peer: 'n1', message: 'requestVoteResponse term=1 granted' },
  { time: 4, node: 'n3', event: 'fault', detail: 'crash' },
  {
    time: 5.5,
    node: 'n1',
    event: 'receive',
    peer: 'n2',
    message: 'requestVoteResponse term=1 granted',
  },
  { time: 5.5, node: 'n1', event: 'role', state: { role: 'leader' } },
  { time: 6, node: 'n1', event: 'client', message: 'put x="a;b" #1 <tag>' },
  {
    time: 7,
    node: 'n1',
    event: 'send',
    peer: 'n2',
    message: 'appendEntries term=1 prev=0/0 commit=0 entries=[1/1]',
  },
  { time: 10, node: 'n1', event: 'commit', state: { lastIndex: 1, commit: 1 } },
  { time: 10, node: 'n1', event: 'note', message: 'line one\nline two' },
];
