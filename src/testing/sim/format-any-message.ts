import { formatMessage } from '../../core/format.js';
import type { Message } from '../../transport/transport.js';

/**
 * One line for any message on the wire, without the `from->to` head (the trace has columns for
 * those): `append-entries term=2 prev=5/1 commit=5 entries=[6/2]`.
 */
export function formatAnyMessage(message: Message): string {
  if (message.type === 'forward-proposal') {
    return `forward-proposal request=${message.requestId} commands=${message.commands.length}`;
  }
  if (message.type === 'forward-result') {
    const outcomes = message.outcomes.map((outcome) =>
      outcome.status === 'applied' ? 'applied' : outcome.code,
    );
    return `forward-result request=${message.requestId} outcomes=[${outcomes.join(',')}]`;
  }
  if (message.type === 'join-request') return `join-request request=${message.requestId}`;
  if (message.type === 'join-response') {
    return `join-response request=${message.requestId} ${message.errorCode ?? `leader=${message.leaderId ?? 'none'}`}`;
  }
  const line = formatMessage(message);
  const head = `${message.from}->${message.to} `;
  return line.startsWith(head) ? line.slice(head.length) : line;
}
