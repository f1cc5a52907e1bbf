import type { Message, MessageHandler, NodeId, Transport } from 'raftkit';

/** Each kind of traffic and its slot in a peer's counts; the kinds' order follows from it. */
const flowSlots = {
  append: 0,
  heartbeat: 1,
  vote: 2,
  snapshot: 3,
  read: 4,
  forward: 5,
} as const;

/** The kinds of traffic the dashboard draws, one colour each (`forward`: the runtime's own). */
export type FlowKind = keyof typeof flowSlots;

/** The kinds in the order of the per-peer count slots. */
const flowKinds = Object.keys(flowSlots) as FlowKind[];

/** Messages sent to each peer, by kind, since the server started. */
export type FlowCounts = Record<NodeId, Partial<Record<FlowKind, number>>>;

/**
 * The count slot of a message's kind: every message type folds into the few kinds a person
 * watching the cluster tells apart.
 */
function flowSlotOf(message: Message): number {
  switch (message.type) {
    case 'append-entries':
    case 'append-entries-response':
      return flowSlots.append;
    case 'heartbeat':
    case 'heartbeat-response':
    case 'timeout-now':
      return flowSlots.heartbeat;
    case 'request-vote':
    case 'request-vote-response':
      return flowSlots.vote;
    case 'install-snapshot':
    case 'install-snapshot-response':
      return flowSlots.snapshot;
    case 'read-index':
    case 'read-index-response':
      return flowSlots.read;
    case 'forward-proposal':
    case 'forward-result':
    case 'join-request':
    case 'join-response':
      return flowSlots.forward;
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
  /**
   * Messages sent per peer, one slot per kind (in `flowKinds` order). Typed arrays rather than a
   * record per peer keyed by kind: every message counts here, and the keyed record made each
   * count a dictionary lookup and a megamorphic store.
   */
  readonly #sent = new Map<NodeId, Float64Array>();
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
    let perPeer = this.#sent.get(message.to);
    if (perPeer === undefined) {
      perPeer = new Float64Array(flowKinds.length);
      this.#sent.set(message.to, perPeer);
    }
    perPeer[flowSlotOf(message)]!++;
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
    for (const [peer, counts] of this.#sent) {
      const perKind: Partial<Record<FlowKind, number>> = {};
      // Kinds never sent stay absent, as before.
      flowKinds.forEach((kind, slot) => {
        const count = counts[slot]!;
        if (count > 0) perKind[kind] = count;
      });
      copy[peer] = perKind;
    }
    return copy;
  }
}
