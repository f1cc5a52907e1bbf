import type { NodeId } from '../../core/types.js';
import {
  arrayLogView,
  type ClusterView,
  type DurableView,
  type ProcessView,
  type ServerView,
} from '../checkers/cluster-view.js';
import type { NodeSlot } from './node-process.js';

const noSnapshot = { index: 0, term: 0 };

/**
 * One node slot as the checkers read it, read afresh on every access: the slot's process and disk
 * change as it crashes and restarts. The checkers read it after every step, so only what they
 * touch is built.
 */
class SimServerView<Result, Query, Answer> implements ServerView {
  readonly #slot: NodeSlot<Result, Query, Answer>;

  constructor(slot: NodeSlot<Result, Query, Answer>) {
    this.#slot = slot;
  }

  get id(): NodeId {
    return this.#slot.id;
  }

  /** The status read at the end of the last step that ran the process, and its storage's log. */
  get process(): ProcessView | null {
    const current = this.#slot.current;
    if (current === null || !current.alive || current.observed === null) return null;
    const { role, term, commitIndex, lastIndex, configuration } = current.observed;
    const log = current.storage.log;
    return { incarnation: current.number, role, term, commitIndex, lastIndex, configuration, log };
  }

  /** What the memory storage has synced: a crashed node still has it. */
  get durable(): DurableView {
    const { hardState, snapshot, entries } = this.#slot.disk.durableState;
    return {
      term: hardState?.term ?? 0,
      vote: hardState?.vote ?? null,
      log: arrayLogView(snapshot ?? noSnapshot, entries),
    };
  }
}

/** The simulated cluster as the checkers read it: every node slot, up or down. */
export class SimClusterView<Result, Query, Answer> implements ClusterView {
  readonly #slots: ReadonlyMap<NodeId, NodeSlot<Result, Query, Answer>>;
  readonly #views = new Map<NodeId, SimServerView<Result, Query, Answer>>();

  /** `slots` is the cluster's own map, filled later; a slot lasts as long as the cluster. */
  constructor(slots: ReadonlyMap<NodeId, NodeSlot<Result, Query, Answer>>) {
    this.#slots = slots;
  }

  *servers(): Iterable<ServerView> {
    for (const id of this.#slots.keys()) yield this.server(id)!;
  }

  server(id: NodeId): ServerView | undefined {
    let view = this.#views.get(id);
    if (view === undefined) {
      const slot = this.#slots.get(id);
      if (slot === undefined) return undefined;
      view = new SimServerView(slot);
      this.#views.set(id, view);
    }
    return view;
  }
}
