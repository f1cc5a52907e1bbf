import { describe, expect, it } from 'vitest';
import { escapeMermaidText, formatTraceMermaid } from './format-trace-mermaid.js';
import { sampleTrace } from './sample-trace.test-helpers.js';

describe('formatTraceMermaid', () => {
  it('draws an arrow per sent message and a note per other event', () => {
    expect(formatTraceMermaid(sampleTrace)).toBe(
      [
        'sequenceDiagram',
        '    participant n1',
        '    participant n2',
        '    participant n3',
        '    Note over n1: role: candidate term=1',
        '    n1->>n2: requestVote term=1 last=0/0',
        '    n1->>n3: requestVote term=1 last=0/0',
        '    Note over n2: term=1',
        '    n2->>n1: requestVoteResponse term=1 granted',
        '    Note over n3: fault: crash',
        '    Note over n1: role: leader',
        '    Note over n1: client: put x=#quot;a#59;b#quot; #35;1 #lt;tag#gt;',
        '    n1->>n2: appendEntries term=1 prev=0/0 commit=0 entries=[1/1]',
        '    Note over n1: commit: last=1 commit=1',
        '    Note over n1: line one<br/>line two',
      ].join('\n'),
    );
  });

  it('can draw arrows in delivery order instead', () => {
    const rows = sampleTrace.slice(0, 7);
    expect(formatTraceMermaid(rows, { arrowsAt: 'receive' })).toBe(
      [
        'sequenceDiagram',
        '    participant n1',
        '    participant n2',
        '    participant n3',
        '    Note over n1: role: candidate term=1',
        '    n1->>n2: requestVote term=1 last=0/0',
        '    Note over n2: term=1',
        '    Note over n3: fault: crash',
        '    n2->>n1: requestVoteResponse term=1 granted',
      ].join('\n'),
    );
  });

  it('aliases node names that Mermaid would misread, and notes over both ends', () => {
    const diagram = formatTraceMermaid(
      [
        { time: 0, node: 'node-1', event: 'send', peer: 'end', message: 'ping' },
        { time: 1, node: 'end', event: 'fault', peer: 'node-1', message: 'partition' },
        { time: 2, node: 'participant_1', event: 'note', message: 'a # b ; c' },
      ],
      { nodes: ['node-1'] },
    );
    expect(diagram).toBe(
      [
        'sequenceDiagram',
        '    participant participant_1_ as node-1',
        '    participant participant_2 as end',
        '    participant participant_1',
        '    participant_1_->>participant_2: ping',
        '    Note over participant_2,participant_1_: fault: partition',
        '    Note over participant_1: a #35; b #59; c',
      ].join('\n'),
    );
  });

  it('escapes every character that ends or changes Mermaid text', () => {
    expect(escapeMermaidText('#;<>"%%\r\n\r\nx')).toBe('#35;#59;#lt;#gt;#quot;#37;#37;<br/><br/>x');
    expect(escapeMermaidText('plain text: a=1, b->c')).toBe('plain text: a=1, b-#gt;c');
  });
});
