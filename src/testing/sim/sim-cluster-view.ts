import type { NodeId } from '../../core/types.js';
import type { DurableMemoryState } from '../../storage/memory/memory-storage.js';
import {
  arrayLogView,
  type ClusterView,
  type DurableView,
  type ServerView,
} from '../checkers/cluster-view.js';
import type { NodeSlot } from './node-process.js';

const noSnapshot = { index: 0, term: 0 };

/** A disk as the checkers read it: only what it has synced. */
function durableViewOf(state: DurableMemoryState): DurableView {
  return {
    term: state.hardState?.term ?? 0,
    vote: state.hardState?.vote ?? null,
    log: arrayLogView(state.snapshot ?? noSnapshot, state.entries),
  };
}

/**
 * The simulated cluster as the checkers read it. A process's state is the status read at the end
 * of the last step that ran it (no other step can change it), its log is the one its storage was
 * given, and a disk is what its memory storage has synced: a crashed node still has one.
 */
export class SimClusterView<Result, Query, Answer> implements ClusterView {
  readonly #slots: ReadonlyMap<NodeId, NodeSlot<Result, Query, Answer>>;

  constructor(slots: ReadonlyMap<NodeId, NodeSlot<Result, Query, Answer>>) {
    this.#slots = slots;
  }

  *servers(): Iterable<ServerView> {
    for (const id of this.#slots.keys()) yield this.server(id)!;
  }

  server(id: NodeId): ServerView | undefined {
    const slot = this.#slots.get(id);
    if (slot === undefined) return undefined;
    const current = slot.current;
    const running = current !== null && current.alive && current.observed !== null;
    return {
      id,
      process: running
        ? { ...current.observed!, incarnation: current.number, log: current.storage.log }
        : null,
      durable: durableViewOf(slot.disk.durableState),
    };
  }
}
