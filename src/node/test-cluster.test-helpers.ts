import { setImmediate as nextTurn } from 'node:timers/promises';
import { RaftError, seededRandom, type NodeId } from '../core/index.js';
import { MemoryStorage } from '../storage/memory/index.js';
import { InProcessNetwork } from '../transport/in-process/index.js';
import type { Clock } from '../platform/clock.js';
import type { CommandRejection } from './command-rejection.js';
import type { RaftNodeOptions } from './node-options.js';
import { RaftNode } from './raft-node.js';
import { SimulatedClock } from './simulated-clock.js';
import type { StateMachine } from './state-machine.js';

/** A counter: `add:N` adds N and returns the new total; every applied command is recorded. */
export class CounterMachine implements StateMachine<number, 'total', number> {
  total = 0;
  readonly applied: { index: number; command: string }[] = [];
  failuresToInject = 0;

  // Declared with the rejection a subclass may return; this counter itself never rejects.
  apply(command: Uint8Array, context: { index: number }): number | CommandRejection {
    if (this.failuresToInject > 0) {
      this.failuresToInject--;
      throw new Error('injected apply failure');
    }
    const text = new TextDecoder().decode(command);
    this.applied.push({ index: context.index, command: text });
    this.total += Number(text.split(':')[1] ?? 0);
    return this.total;
  }

  query(): number {
    return this.total;
  }
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

type ExtraOptions = Partial<RaftNodeOptions<number, 'total', number>>;

/** Several nodes on one in-process network, each with memory storage and a counter. */
export class TestCluster {
  readonly clock: Clock;
  readonly network: InProcessNetwork;
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, RaftNode<number, 'total', number>>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly machines = new Map<NodeId, CounterMachine>();
  readonly #extra: (id: NodeId) => ExtraOptions;
  readonly #seed: number;
  #starts = 0;

  constructor(options: {
    size: number;
    clock?: Clock;
    seed?: number;
    extra?: (id: NodeId) => ExtraOptions;
  }) {
    this.clock = options.clock ?? new SimulatedClock();
    this.#seed = options.seed ?? 1;
    this.network = new InProcessNetwork({ clock: this.clock, random: seededRandom(this.#seed) });
    this.ids = Array.from({ length: options.size }, (_, position) => `n${position + 1}`);
    this.#extra = options.extra ?? (() => ({}));
    for (const id of this.ids) this.storages.set(id, new MemoryStorage());
  }

  get simulated(): SimulatedClock | null {
    return this.clock instanceof SimulatedClock ? this.clock : null;
  }

  /** Creates (or re-creates, on the same storage) and starts one node. */
  async startNode(
    id: NodeId,
    machine = new CounterMachine(),
  ): Promise<RaftNode<number, 'total', number>> {
    this.#starts++;
    const node = new RaftNode<number, 'total', number>({
      id,
      storage: this.storages.get(id)!,
      transport: this.network.transport(),
      stateMachine: machine,
      initialConfiguration: this.ids,
      clock: this.clock,
      tickMs: 10,
      // Each start of a node is a new process: a fresh random sequence, as the option requires.
      random: seededRandom(this.#seed * 1_000_000 + this.ids.indexOf(id) * 1000 + this.#starts),
      ...this.#extra(id),
    });
    this.nodes.set(id, node);
    this.machines.set(id, machine);
    await node.start();
    return node;
  }

  async start(): Promise<void> {
    for (const id of this.ids) await this.startNode(id);
  }

  node(id: NodeId): RaftNode<number, 'total', number> {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** The single running leader whose term is the highest, or null. */
  leader(): RaftNode<number, 'total', number> | null {
    let best: RaftNode<number, 'total', number> | null = null;
    for (const node of this.nodes.values()) {
      if (!node.running || node.role !== 'leader') continue;
      if (best === null || node.status().term > best.status().term) best = node;
    }
    return best;
  }

  /**
   * Lets time pass until `condition` holds: virtual time in steps of one timer on a simulated
   * clock, real time otherwise. Bounded by `timeMsMax` of (virtual or real) time.
   */
  async runUntil(condition: () => boolean, timeMsMax = 10_000): Promise<void> {
    const simulated = this.simulated;
    const start = this.clock.now();
    for (let step = 0; step < 1_000_000; step++) {
      if (condition()) return;
      if (this.clock.now() - start > timeMsMax) break;
      if (simulated !== null) {
        if (!simulated.step()) simulated.advance(1);
        // Let promise chains (storage writes, applies) settle before the next timer fires.
        await nextTurn();
      } else {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    throw new Error(`condition not reached within ${timeMsMax} ms`);
  }

  async waitForLeader(timeMsMax = 10_000): Promise<RaftNode<number, 'total', number>> {
    await this.runUntil(() => this.leader() !== null, timeMsMax);
    return this.leader()!;
  }

  /** Runs time while a promise is pending (for simulated clocks), then returns its outcome. */
  async settle<T>(promise: Promise<T>, timeMsMax = 10_000): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    // Observe rejections now; the caller sees them through the returned promise.
    tracked.catch(() => undefined);
    await this.runUntil(() => done, timeMsMax);
    return tracked;
  }

  /** Proposes `text` on `node`. */
  propose(node: RaftNode<number, 'total', number>, text: string): Promise<number> {
    return node.propose(encode(text));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.stop()));
  }
}

/** The RaftError `promise` rejects with; fails the test if it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<RaftError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RaftError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}
