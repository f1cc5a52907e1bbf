import { formatTraceBody, formatTraceState, traceNodes } from './format-trace-text.js';
import type { TraceRow } from './trace-row.js';

/** Options for {@link formatTraceMermaid}. */
export interface FormatTraceMermaidOptions {
  /** Participants to list first, in order; nodes the rows mention are added after them. */
  readonly nodes?: readonly string[];
  /**
   * Which row draws a message's arrow: its `send` (default; lost messages still appear) or its
   * `receive` (the order in which messages were delivered). The other kind is not drawn.
   */
  readonly arrowsAt?: 'send' | 'receive';
}

// Words Mermaid's sequence diagram lexer reads as keywords; as participant names they break it.
const keywords = new Set(
  (
    'participant actor as loop alt else opt par and rect critical break end note over left right ' +
    'of activate deactivate autonumber title box create destroy link links properties details ' +
    'sequencediagram acctitle accdescr off option par_over'
  ).split(' '),
);

// Characters that end a text token (`#` starts a comment, `;` ends the statement), start a comment
// (`%%`) or could be read as markup, written as the entity codes Mermaid decodes before parsing.
const textEscapes: Readonly<Record<string, string>> = {
  '#': '#35;',
  '%': '#37;',
  ';': '#59;',
  '<': '#lt;',
  '>': '#gt;',
  '"': '#quot;',
};

/** Makes text safe after a `:` or `as` in Mermaid: entity codes, line breaks as `<br/>`. */
export function escapeMermaidText(text: string): string {
  return text
    .replace(/[#%;<>"]/g, (character) => textEscapes[character] ?? character)
    .replace(/\r?\n|\r/g, '<br/>');
}

function isPlainIdentifier(node: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(node) && !keywords.has(node.toLowerCase());
}

/** Maps each node to the identifier used in the diagram: itself when safe, else a fresh alias. */
function participantIds(nodes: readonly string[]): Map<string, string> {
  const taken = new Set(nodes.filter(isPlainIdentifier));
  const ids = new Map<string, string>();
  nodes.forEach((node, index) => {
    if (isPlainIdentifier(node)) {
      ids.set(node, node);
      return;
    }
    let alias = `participant_${index + 1}`;
    while (taken.has(alias)) alias = `${alias}_`;
    taken.add(alias);
    ids.set(node, alias);
  });
  return ids;
}

function noteText(row: TraceRow): string {
  const parts = [formatTraceBody(row), formatTraceState(row.state)].filter((part) => part !== '');
  if (row.event === 'note') return parts.join(', ') || 'note';
  return parts.length === 0 ? row.event : `${row.event}: ${parts.join(', ')}`;
}

/**
 * Renders rows as a Mermaid `sequenceDiagram`: one participant per node, an arrow per message
 * (`n1->>n2: appendEntries …`), and a note over the node for role changes, faults, commits and
 * other events. Text is escaped so that no message can break the diagram.
 */
export function formatTraceMermaid(
  rows: readonly TraceRow[],
  options: FormatTraceMermaidOptions = {},
): string {
  const arrowsAt = options.arrowsAt ?? 'send';
  const nodes = traceNodes(rows, options.nodes);
  const ids = participantIds(nodes);
  const idOf = (node: string): string => ids.get(node) ?? node;
  const lines = ['sequenceDiagram'];
  for (const node of nodes) {
    const id = idOf(node);
    lines.push(
      id === node ? `    participant ${id}` : `    participant ${id} as ${escapeMermaidText(node)}`,
    );
  }
  for (const row of rows) {
    const isMessage = row.event === 'send' || row.event === 'receive';
    const state = formatTraceState(row.state);
    if (!isMessage) {
      const over = row.peer === undefined ? idOf(row.node) : `${idOf(row.node)},${idOf(row.peer)}`;
      lines.push(`    Note over ${over}: ${escapeMermaidText(noteText(row))}`);
      continue;
    }
    if (row.event === arrowsAt && row.peer !== undefined) {
      const [from, to] = row.event === 'send' ? [row.node, row.peer] : [row.peer, row.node];
      const text = escapeMermaidText(formatTraceBody(row) || 'message');
      lines.push(`    ${idOf(from)}->>${idOf(to)}: ${text}`);
    }
    // A message row can also change the node's state (a higher term seen on receive): keep it.
    if (state !== '') lines.push(`    Note over ${idOf(row.node)}: ${escapeMermaidText(state)}`);
  }
  return lines.join('\n');
}
