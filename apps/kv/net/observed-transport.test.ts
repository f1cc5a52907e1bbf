import { describe, expect, it } from 'vitest';
import type { Message, Transport } from 'raftkit';
import { ObservedTransport } from './observed-transport.js';

class RecordingTransport implements Transport {
  readonly sent: Message[] = [];
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(message: Message): void {
    this.sent.push(message);
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

const heartbeat = (to: string): Message =>
  ({ type: 'heartbeat', from: 'n1', to, term: 1, commit: 0, context: 0 }) as unknown as Message;
const append = (to: string): Message =>
  ({ type: 'append-entries-response', from: 'n1', to, term: 1 }) as unknown as Message;
const forward = (to: string): Message =>
  ({ type: 'forward-result', from: 'n1', to, requestId: 1 }) as unknown as Message;

describe('ObservedTransport', () => {
  it('counts what it sends per peer and kind, leaving kinds never sent out', () => {
    const inner = new RecordingTransport();
    const observed = new ObservedTransport(inner);
    for (const message of [heartbeat('n2'), append('n2'), append('n2'), forward('n3')]) {
      observed.send(message);
    }
    expect(observed.flow()).toEqual({ n2: { heartbeat: 1, append: 2 }, n3: { forward: 1 } });
    expect(inner.sent).toHaveLength(4);
  });

  it('drops and does not count what goes to a peer it is cut off from', () => {
    const inner = new RecordingTransport();
    const observed = new ObservedTransport(inner);
    observed.block(['n3']);
    observed.send(forward('n3'));
    observed.send(heartbeat('n2'));
    expect(observed.flow()).toEqual({ n2: { heartbeat: 1 } });
    expect(observed.dropped).toBe(1);
    expect(inner.sent.map((message) => message.to)).toEqual(['n2']);
  });
});
