import type { TraceNodeState, TraceRow } from './trace-row.js';

/** `leader term=2 last=6 commit=5`, with only the fields present. */
export function formatTraceState(state: TraceNodeState | undefined): string {
  if (state === undefined) return '';
  const parts: string[] = [];
  if (state.role !== undefined) parts.push(state.role);
  if (state.term !== undefined) parts.push(`term=${state.term}`);
  if (state.lastIndex !== undefined) parts.push(`last=${state.lastIndex}`);
  if (state.commit !== undefined) parts.push(`commit=${state.commit}`);
  return parts.join(' ');
}

/** The row's message and detail, for after the node and event: `appendEntries … (dropped)`. */
export function formatTraceBody(row: TraceRow): string {
  const detail = row.detail === undefined || row.detail === '' ? '' : row.detail;
  if (row.message === undefined || row.message === '') return detail;
  return detail === '' ? row.message : `${row.message} (${detail})`;
}

/**
 * One line for the event: `n1 -> n2: appendEntries …` for a send, `n2 <- n1: …` for a receive,
 * `n1 fault: crash` otherwise.
 */
export function formatTraceEvent(row: TraceRow): string {
  const body = formatTraceBody(row);
  const head = formatTraceHead(row);
  return body === '' ? head : `${head}: ${body}`;
}

function formatTraceHead(row: TraceRow): string {
  switch (row.event) {
    case 'send':
      return `${row.node} -> ${row.peer ?? '?'}`;
    case 'receive':
      return `${row.node} <- ${row.peer ?? '?'}`;
    default:
      return row.peer === undefined
        ? `${row.node} ${row.event}`
        : `${row.node} ${row.event} ${row.peer}`;
  }
}

/**
 * The nodes a trace mentions, in a stable order: those named in `nodes` first, as given, then the
 * others (including message peers) sorted with numbers compared by value, so n2 comes before n10.
 */
export function traceNodes(rows: readonly TraceRow[], nodes: readonly string[] = []): string[] {
  const named = new Set(nodes);
  const others = new Set<string>();
  for (const row of rows) {
    if (!named.has(row.node)) others.add(row.node);
    if (row.peer !== undefined && !named.has(row.peer)) others.add(row.peer);
  }
  const collator = new Intl.Collator('en', { numeric: true });
  return [...named, ...[...others].sort((left, right) => collator.compare(left, right))];
}
