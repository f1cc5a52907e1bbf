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
 * time  n1                   n2                 event
 * ----  -------------------  -----------------  ------------------------------
 *    0  candidate term=1                        n1 role
 *    1                                          n1 -> n2: requestVote term=1
 * ```
 */
export function formatTraceTable(
  rows: readonly TraceRow[],
  options: FormatTraceTableOptions = {},
): string {
  const nodes = options.nodes ?? traceNodes(rows);
  // One precision for the whole column, so the decimal points line up.
  const decimals = Math.max(0, ...rows.map((row) => decimalsOf(row.time)));
  const columnOf = new Map(nodes.map((node, index) => [node, index]));
  const header = ['time', ...nodes.map(oneLine), 'event'];
  const body = rows.map((row) => {
    const time = row.time.toFixed(decimals);
    const cells: string[] = [time, ...nodes.map(() => ''), oneLine(formatTraceEvent(row))];
    const column = columnOf.get(row.node);
    if (column !== undefined) cells[column + 1] = oneLine(formatTraceState(row.state));
    return cells;
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => cells[column]!.length)),
  );
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        // Times right-aligned, so that their digits line up.
        column === 0 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join(columnGap)
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width));
  return [render(header), render(rule), ...body.map(render)].join('\n');
}
