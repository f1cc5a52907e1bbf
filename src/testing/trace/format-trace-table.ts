import { formatTraceEvent, formatTraceState, traceNodes } from './format-trace-text.js';
import type { TraceRow } from './trace-row.js';

/** Options for {@link formatTraceTable}. */
export interface FormatTraceTableOptions {
  /** The node columns, in order; by default every node the rows mention, sorted. */
  readonly nodes?: readonly string[];
}

const columnGap = '  ';
/** Decimal places past which times are rounded: a microsecond is finer than any trace needs. */
const timeDecimalsMax = 3;

/** Keeps a cell on its line: a line break in a message would tear the table apart. */
function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\\n').replace(/\t/g, ' ');
}

/** Decimal places that show `time` exactly, up to {@link timeDecimalsMax}. */
function decimalsOf(time: number): number {
  for (let decimals = 0; decimals < timeDecimalsMax; decimals++) {
    if (Number(time.toFixed(decimals)) === time) return decimals;
  }
  return timeDecimalsMax;
}

/**
 * Renders rows as a fixed-width text table for terminals and test failure messages: the time, a
 * column per node showing the state that changed there (role, term, last index, commit), then the
 * event. Columns are as wide as their widest cell; lines carry no trailing spaces.
 *
 * ```text
 * time  n1                n2      event
 * ----  ----------------  ------  -------------------------------------
 *    0  candidate term=1          n1 role
 *    1                            n1 -> n2: requestVote term=1 last=0/0
 *    3                    term=1  n2 <- n1: requestVote term=1 last=0/0
 * ```
 */
export function formatTraceTable(
  rows: readonly TraceRow[],
  options: FormatTraceTableOptions = {},
): string {
  const nodes = options.nodes ?? traceNodes(rows);
  // Loops rather than Math.max(...spread): a full tracer holds more rows than a call takes arguments.
  let decimals = 0;
  for (const row of rows) decimals = Math.max(decimals, decimalsOf(row.time));
  const columnOf = new Map(nodes.map((node, index) => [node, index]));
  const cellsOf = (row: TraceRow): string[] => {
    const cells = [
      row.time.toFixed(decimals),
      ...nodes.map(() => ''),
      oneLine(formatTraceEvent(row)),
    ];
    const column = columnOf.get(row.node);
    if (column !== undefined) cells[column + 1] = oneLine(formatTraceState(row.state));
    return cells;
  };
  const header = ['time', ...nodes.map(oneLine), 'event'];
  const widths = header.map((title) => title.length);
  // Cells are built twice instead of kept: short-lived strings are far cheaper for the collector
  // than a hundred thousand retained arrays.
  for (const row of rows) {
    cellsOf(row).forEach(
      (cell, column) => (widths[column] = Math.max(widths[column]!, cell.length)),
    );
  }
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        // Times right-aligned, so that their digits line up.
        column === 0 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join(columnGap)
      .trimEnd();
  const lines = [render(header), render(widths.map((width) => '-'.repeat(width)))];
  for (const row of rows) lines.push(render(cellsOf(row)));
  return lines.join('\n');
}
