import type { NodeId } from '../../core/types.js';
import type { NetworkEvent } from '../../transport/in-process/index.js';
import type { Message } from '../../transport/transport.js';
import type { TraceNodeState, TraceRow } from '../trace/trace-row.js';
import type { Tracer } from '../trace/tracer.js';
import { formatAnyMessage } from './format-any-message.js';

/** What the recorder reads to stamp rows: the clock and a node's state right now. */
export interface TraceSource {
  now(): number;
  /** The node's state as cheap reads give it, or null when the node is unknown or never started. */
  stateOf(nodeId: NodeId): Required<TraceNodeState> | null;
}

/**
 * Turns what happens in a {@link SimCluster} into trace rows. Each row carries only what changed in
 * its node's state since that node's previous row, so a table stays readable.
 */
export class SimTraceRecorder {
  readonly tracer: Tracer | null;
  readonly #source: TraceSource;
  /** Each node's state as its last row showed it. */
  readonly #traced = new Map<NodeId, TraceNodeState>();

  constructor(tracer: Tracer | null, source: TraceSource) {
    this.tracer = tracer;
    this.#source = source;
  }

  /** Records a row with the node's state delta since its last row. */
  record(row: Omit<TraceRow, 'time' | 'state'>): void {
    if (this.tracer === null) return;
    const state = this.#stateDelta(row.node);
    this.tracer.record({ time: this.#source.now(), ...row, ...(state === null ? {} : { state }) });
  }

  /** A `note` row. */
  note(nodeId: NodeId, message: string): void {
    this.record({ node: nodeId, event: 'note', message });
  }

  /** A `fault` row; faults of the whole network are shown on a `network` row. */
  fault(kind: string, nodeId: NodeId, detail: string): void {
    this.record({
      node: nodeId === '' ? 'network' : nodeId,
      event: 'fault',
      message: kind,
      detail,
    });
  }

  /** A message `nodeId` received, right after it handled it. */
  received(nodeId: NodeId, message: Message): void {
    if (this.tracer === null) return;
    this.record({
      node: nodeId,
      event: 'receive',
      peer: message.from,
      message: formatAnyMessage(message),
    });
  }

  /** A message held back for manual delivery. */
  held(message: Message): void {
    if (this.tracer === null) return;
    this.record({
      node: message.from,
      event: 'note',
      peer: message.to,
      message: formatAnyMessage(message),
      detail: 'held',
    });
  }

  /** A send or a drop the network reported. */
  networkEvent(event: NetworkEvent): void {
    if (this.tracer === null) return;
    const message = event.message;
    if (event.kind === 'send') {
      this.record({
        node: message.from,
        event: 'send',
        peer: message.to,
        message: formatAnyMessage(message),
      });
    } else if (event.kind === 'drop') {
      this.record({
        node: message.from,
        event: 'fault',
        peer: message.to,
        message: formatAnyMessage(message),
        detail: `dropped: ${event.reason}`,
      });
    }
  }

  #stateDelta(nodeId: NodeId): TraceNodeState | null {
    const now = this.#source.stateOf(nodeId);
    if (now === null) return null;
    const before = this.#traced.get(nodeId) ?? {};
    const delta: TraceNodeState = {
      ...(now.role === before.role ? {} : { role: now.role }),
      ...(now.term === before.term ? {} : { term: now.term }),
      ...(now.lastIndex === before.lastIndex ? {} : { lastIndex: now.lastIndex }),
      ...(now.commit === before.commit ? {} : { commit: now.commit }),
    };
    this.#traced.set(nodeId, now);
    return Object.keys(delta).length === 0 ? null : delta;
  }
}
