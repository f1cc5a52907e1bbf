import { formatEntry, formatMessage } from '../../core/format.js';
import type { CoreTraceEvent } from '../../core/index.js';
import type { Ready } from '../../core/ready.js';

/**
 * The transcript lines of one Ready taken from server `id`, in the order the runtime acts on it:
 * role, early sends, writes, sends that waited for the writes, applies, reads, snapshots.
 */
export function readyLines(id: string, ready: Ready): string[] {
  const lines: string[] = [];
  if (ready.softState !== null) {
    const soft = ready.softState;
    lines.push(`${id}: ${soft.role} term=${soft.term} leader=${soft.leaderId ?? 'none'}`);
  }
  for (const message of ready.messages) lines.push(`${id}: send ${formatMessage(message)}`);
  if (ready.hardState !== null) {
    const { term, vote, commit } = ready.hardState;
    lines.push(`${id}: persist term=${term} vote=${vote ?? 'none'} commit=${commit}`);
  }
  if (ready.entries.length > 0) {
    lines.push(`${id}: persist entries [${ready.entries.map(formatEntry).join(' ')}]`);
  }
  for (const message of ready.messagesAfterPersist) {
    lines.push(`${id}: send ${formatMessage(message)}`);
  }
  if (ready.committed.length > 0) {
    lines.push(`${id}: apply [${ready.committed.map(formatEntry).join(' ')}]`);
  }
  for (const read of ready.reads) {
    const answer = read.confirmed ? `index=${read.index}` : 'refused';
    lines.push(`${id}: read context=${read.context} ${answer}`);
  }
  for (const transfer of ready.snapshotTransfers) {
    const { index, term } = transfer.snapshot;
    lines.push(`${id}: send snapshot ${index}/${term} to ${transfer.to}`);
  }
  for (const message of ready.snapshotMessages) {
    lines.push(`${id}: snapshot ${formatMessage(message)}`);
  }
  return lines;
}

/**
 * The line for a trace event that explains an input with no visible effect (a message the core
 * dropped, and why), or null: the other events (roles, commits) already show in the Ready.
 */
export function traceLine(event: CoreTraceEvent): string | null {
  if (event.kind === 'ignored') {
    return `${event.id}: ignore ${formatMessage(event.message)}: ${event.reason}`;
  }
  if (event.kind === 'invalid-message') {
    return `${event.id}: invalid ${formatMessage(event.message)}: ${event.reason}`;
  }
  return null;
}
