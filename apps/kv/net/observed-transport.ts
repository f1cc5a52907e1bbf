import type { Message, MessageHandler, NodeId, Transport } from 'raftkit';

/** The kinds of traffic the dashboard draws, one colour each (`forward`: the runtime's own). */
export type FlowKind = 'append' | 'heartbeat' | 'vote' | 'snapshot' | 'read' | 'forward';

/** Messages sent to each peer, by kind, since the server started. */
export type FlowCounts = Record<NodeId, Partial<Record<FlowKind, number>>>;

/** Folds every message type into the few kinds a person watching the cluster tells apart. */
export function flowKindOf(message: Message): FlowKind {
  switch (message.type) {
    case 'append-entries':
    case 'append-entries-response':
      return 'append';
    case 'heartbeat':
    case 'heartbeat-response':
    case 'timeout-now':
      return 'heartbeat';
    case 'request-vote':
    case 'request-vote-response':
      return 'vote';
    case 'install-snapshot':
    case 'install-snapshot-response':
      return 'snapshot';
    case 'read-index':
    case 'read-index-response':
      return 'read';
    case 'forward-proposal':
    case 'forward-result':
    case 'join-request':
    case 'join-response':
      return 'forward';
  }
}

/**
 * A transport wrapper that counts what this server sends to each peer, and that can cut this
 * server off from chosen peers: a partition made on purpose, for the dashboard and `raftkit
 * cluster partition`. A cut drops messages in both directions on this side only; the other side
 * drops its own, so a partition is the same list given to every server.
 */
export class ObservedTransport implements Transport {
  readonly #inner: Transport;
  readonly #sent: FlowCounts = {};
  #blocked: ReadonlySet<NodeId> = new Set();
  #dropped = 0;

  constructor(inner: Transport) {
    this.#inner = inner;
  }

  start(self: NodeId, handler: MessageHandler): Promise<void> {
    return this.#inner.start(self, (message) => {
      if (this.#blocked.has(message.from)) {
        this.#dropped++;
        return;
      }
      handler(message);
    });
  }

  send(message: Message): void {
    if (this.#blocked.has(message.to)) {
      this.#dropped++;
      return;
    }
    const perPeer = (this.#sent[message.to] ??= {});
    const kind = flowKindOf(message);
    perPeer[kind] = (perPeer[kind] ?? 0) + 1;
    this.#inner.send(message);
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }

  /** Cuts this server off from `peers` (replacing any earlier cut); an empty list heals. */
  block(peers: readonly NodeId[]): void {
    this.#blocked = new Set(peers);
  }

  /** The peers this server is cut off from. */
  get blocked(): NodeId[] {
    return [...this.#blocked].sort();
  }

  /** Messages dropped by the cut. */
  get dropped(): number {
    return this.#dropped;
  }

  /** A copy of the counts of messages sent, per peer and kind. */
  flow(): FlowCounts {
    const copy: FlowCounts = {};
    for (const [peer, counts] of Object.entries(this.#sent)) copy[peer] = { ...counts };
    return copy;
  }
}
