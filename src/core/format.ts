import type { RaftMessage } from './messages.js';
import type { Entry } from './types.js';

/** `index/term`, with the kind when it is not a command: `6/2`, `1/1 noop`. */
export function formatEntry(entry: Entry): string {
  return entry.kind === 'command'
    ? `${entry.index}/${entry.term}`
    : `${entry.index}/${entry.term} ${entry.kind}`;
}

/** One line per message, for traces and script tests: `1->2 append-entries term=2 prev=5/1 …`. */
export function formatMessage(message: RaftMessage): string {
  const head = `${message.from}->${message.to} ${message.type} term=${message.term}`;
  switch (message.type) {
    case 'request-vote':
      return `${head} last=${message.lastLogIndex}/${message.lastLogTerm}${message.preVote ? ' pre-vote' : ''}${message.transfer ? ' transfer' : ''}`;
    case 'request-vote-response':
      return `${head}${message.preVote ? ' pre-vote' : ''} ${message.granted ? 'granted' : 'rejected'}`;
    case 'append-entries':
      return `${head} prev=${message.prevLogIndex}/${message.prevLogTerm} commit=${message.commit} entries=[${message.entries.map(formatEntry).join(' ')}]`;
    case 'append-entries-response':
      return message.success
        ? `${head} match=${message.matchIndex}`
        : `${head} rejected=${message.rejectedIndex} hint=${message.hintIndex}/${message.hintTerm}`;
    case 'heartbeat':
      return `${head} commit=${message.commit}${message.context === 0 ? '' : ` context=${message.context}`}`;
    case 'heartbeat-response':
      return message.context === 0 ? head : `${head} context=${message.context}`;
    case 'timeout-now':
      return head;
    case 'install-snapshot':
      return `${head} snapshot=${message.snapshot.index}/${message.snapshot.term} offset=${message.offset} bytes=${message.data.byteLength}${message.done ? ' done' : ''}`;
    case 'install-snapshot-response':
      return `${head} snapshot=${message.snapshotIndex} received=${message.bytesReceived} ${message.success ? 'ok' : 'failed'}`;
    case 'read-index':
      return `${head} context=${message.context}`;
    case 'read-index-response':
      return `${head} context=${message.context} index=${message.index}`;
  }
}
