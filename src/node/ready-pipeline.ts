import type { RaftError, RaftMessage, Ready } from '../core/index.js';
import type { LogStorage } from '../storage/log-storage.js';
import type { NodeCounters } from './node-counters.js';
import { toRaftError } from './node-errors.js';
import { persistReadies } from './persist-ready.js';
import { onMicrotask } from '../platform/microtask.js';

/** What the pipeline does with a Ready at each stage; the node supplies it. */
export interface ReadyPipelineStages {
  readonly storage: Pick<LogStorage, 'save'>;
  readonly counters: NodeCounters;
  readonly send: (message: RaftMessage) => void;
  /** A Ready's writes are durable and its after-persist messages sent: advance the core. */
  readonly durable: (ready: Ready) => void;
  /** The last log index this server holds durably (the core's, after every `durable` so far). */
  readonly stableIndex: () => number;
  /**
   * Applies what durable Ready values committed, in order, and serves their reads; returns a
   * promise only when it could not finish at once (an asynchronous state machine).
   */
  readonly apply: (readies: readonly Ready[]) => Promise<void> | undefined;
  readonly fail: (error: RaftError) => void;
}

/**
 * The stages a Ready passes after its early messages have left, run so that none waits for a
 * stage it does not depend on (the core's Ready contract, src/core/ready.ts):
 *
 * 1. write: Ready values are written in the order taken. While one save is in flight, those taken
 *    meanwhile wait and then share the next save (one sync for all of them), so at most one save
 *    is in flight and one is gathering;
 * 2. durable: once its save (and so every earlier one) is durable, a Ready's after-persist
 *    messages — votes, acknowledgements — leave, and the core is told (`advance`);
 * 3. apply: durable Ready values are applied in order, beside the next save.
 *
 * The node keeps taking Ready values meanwhile, so a leader's heartbeats and appends never wait for
 * the disk or the state machine. A Ready that writes nothing but has to wait behind writes taken
 * before it (its acknowledgements may vouch for them) has its committed entries and reads applied
 * at once when those entries are already durable here and nothing before them waits to be
 * applied: a leader that learns of a commit while it writes the next entries answers its callers
 * without waiting for that unrelated write, as etcd's asynchronous storage writes do.
 */
export class ReadyPipeline {
  readonly #stages: ReadyPipelineStages;
  /** Taken, not yet handed to storage: they share the next save. */
  #gathering: Ready[] = [];
  #writing = false;
  #writeScheduled = false;
  /** Durable, not yet applied. */
  #toApply: Ready[] = [];
  /** Ready values taken, not yet durable, that carry committed entries or reads. */
  #applyWorkWaiting = 0;
  #applying = false;
  #failed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(stages: ReadyPipelineStages) {
    this.#stages = stages;
  }

  /** Whether anything is being written or applied, or waits to be. */
  get busy(): boolean {
    return (
      this.#writing ||
      this.#writeScheduled ||
      this.#gathering.length > 0 ||
      this.#applying ||
      this.#toApply.length > 0
    );
  }

  /**
   * Resolves once nothing is being written or applied. After a failure nothing new starts, but a
   * save or apply already under way is still waited for: storage is closed only after it.
   */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Takes a Ready whose early `messages` the node has sent. */
  push(ready: Ready): void {
    if (this.#failed) return;
    const writes = ready.hardState !== null || ready.entries.length > 0;
    if (!writes && !this.#writing && this.#gathering.length === 0) {
      // Nothing to wait for: later stages run now, which keeps an idle node's latency at zero.
      this.#durable([ready]);
      return;
    }
    if (!writes && this.#applyWorkWaiting === 0 && this.#appliesEarly(ready)) {
      this.#toApply.push({ ...ready, messagesAfterPersist: [] });
      this.#gathering.push({ ...ready, committed: [], reads: [] });
      if (!this.#applying) this.#apply();
    } else {
      if (hasApplyWork(ready)) this.#applyWorkWaiting++;
      this.#gathering.push(ready);
    }
    if (this.#writing || this.#writeScheduled) return;
    // The save starts on the next microtask, so every Ready of this pass joins it.
    this.#writeScheduled = true;
    onMicrotask(() => {
      this.#writeScheduled = false;
      void this.#write();
    });
  }

  /** Whether a Ready's committed entries (if any) are all durable here already. */
  #appliesEarly(ready: Ready): boolean {
    if (!hasApplyWork(ready)) return false;
    const last = ready.committed.at(-1);
    return last === undefined || last.index <= this.#stages.stableIndex();
  }

  async #write(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#gathering.length > 0 && !this.#failed) {
        const batch = this.#gathering;
        this.#gathering = [];
        await persistReadies(this.#stages.storage, batch, this.#stages.counters);
        if (this.#failed) return;
        this.#durable(batch);
      }
    } catch (error) {
      this.#fail(toRaftError(error));
    } finally {
      this.#writing = false;
      this.#settleIdle();
    }
  }

  #durable(batch: readonly Ready[]): void {
    const { send, counters, durable } = this.#stages;
    for (const ready of batch) {
      for (const message of ready.messagesAfterPersist) send(message);
      counters.messagesSent += ready.messagesAfterPersist.length;
      durable(ready);
      if (!hasApplyWork(ready)) continue;
      this.#toApply.push(ready);
      if (this.#applyWorkWaiting > 0) this.#applyWorkWaiting--;
    }
    if (this.#toApply.length > 0 && !this.#applying) this.#apply();
  }

  /**
   * Applies what is durable. A synchronous apply finishes here, in the same turn as the save that
   * made it durable; an asynchronous one continues in {@link ReadyPipeline.#applyLater}. Either
   * way one apply runs at a time: Ready values made durable meanwhile wait in `#toApply`.
   */
  #apply(): void {
    this.#applying = true;
    try {
      while (this.#toApply.length > 0 && !this.#failed) {
        const batch = this.#toApply;
        this.#toApply = [];
        const pending = this.#stages.apply(batch);
        if (pending !== undefined) {
          void this.#applyLater(pending);
          return;
        }
      }
    } catch (error) {
      this.#fail(toRaftError(error));
    }
    this.#applying = false;
    this.#settleIdle();
  }

  async #applyLater(pending: Promise<void>): Promise<void> {
    try {
      await pending;
    } catch (error) {
      this.#fail(toRaftError(error));
    }
    this.#apply();
  }

  #fail(error: RaftError): void {
    this.#failed = true;
    this.#gathering = [];
    this.#toApply = [];
    this.#applyWorkWaiting = 0;
    this.#stages.fail(error);
  }

  #settleIdle(): void {
    if (this.busy) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}

function hasApplyWork(ready: Ready): boolean {
  return ready.committed.length > 0 || ready.reads.length > 0;
}
