export {
  escapeMermaidText,
  formatTraceMermaid,
  type FormatTraceMermaidOptions,
} from './format-trace-mermaid.js';
export { formatTraceTable, type FormatTraceTableOptions } from './format-trace-table.js';
export { formatTraceEvent, formatTraceState } from './format-trace-text.js';
export type { TraceEvent, TraceNodeState, TraceRow } from './trace-row.js';
export { Tracer, tracerDefaults, type TraceListener, type TracerOptions } from './tracer.js';
