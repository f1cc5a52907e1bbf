import { RaftError } from '../../core/index.js';
import type { NodeId } from '../../core/index.js';
import { realClock, type Clock, type TimerHandle } from '../../platform/clock.js';
import type { Message, MessageHandler } from '../transport.js';
import {
  checkFaults,
  inProcessNetworkDefaults,
  perfectNetwork,
  type DropReason,
  type InProcessNetworkOptions,
  type InProcessNetworkStats,
  type MessageInterceptor,
  type NetworkEvent,
  type NetworkFaults,
} from './in-process-network-options.js';
import { InProcessTransport, type NetworkPort } from './in-process-transport.js';

interface Flight {
  readonly message: Message;
  /** The link's ordered queue this flight waits in, or null when it is delivered on its own. */
  readonly link: Flight[] | null;
  /** Its own timer, or null when it rides in the batch of messages due at once. */
  timer: TimerHandle | null;
  /** The batch it rides in until that batch is delivered; null with a timer of its own. */
  due: DueBatch | null;
  /** Whether it still waits in its link's queue (an arrival takes it off first). */
  linked: boolean;
  done: boolean;
}

/**
 * Messages sent with no delay, delivered together by one timer callback in the order they were
 * sent. One callback per message would let the event loop drain microtasks between deliveries, so
 * a receiver would run a Ready pass per message instead of one for everything that arrived.
 */
interface DueBatch {
  readonly flights: Flight[];
  readonly timer: TimerHandle;
  /** Flights in the batch neither delivered nor dropped; at 0 the timer is cancelled. */
  live: number;
}

function linkKey(from: NodeId, to: NodeId): string {
  // A NUL cannot be typed by accident into a node id, so the key is unambiguous in practice.
  return `${from}\u0000${to}`;
}

/**
 * A simulated network inside one process: a test double for {@link Transport}, published so that
 * applications can test their own code under message loss, delay, duplication, reordering and
 * partitions, replayably from a seed.
 *
 * Each server gets its own transport from {@link InProcessNetwork.transport}. Messages are always
 * delivered asynchronously through the clock, never by calling the receiver from inside `send`, so
 * a handler never runs in the middle of the sender's code. Messages on one link (sender, receiver)
 * arrive in the order they were sent unless reordering is switched on. Messages are passed by
 * reference: receivers must treat them (and their byte arrays) as read-only.
 *
 * ```ts
 * const network = new InProcessNetwork({ clock, random: seededRandom });
 * const transport = network.transport(); // hand it to a RaftNode
 * network.partition(['a'], ['b', 'c']);
 * network.heal();
 * ```
 */
export class InProcessNetwork {
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #queueMessagesMax: number;
  readonly #onEvent: ((event: NetworkEvent) => void) | undefined;
  #faults: NetworkFaults;
  #interceptor: MessageInterceptor | null = null;
  readonly #handlers = new Map<NodeId, MessageHandler>();
  readonly #partitioned = new Set<string>();
  readonly #blocked = new Set<string>();
  /**
   * Each link's ordered queue, by sender then receiver. Nested maps keyed by the ids themselves:
   * a key joined from both ids would be a new string to build and hash for every message. A
   * link's queue stays once made (there is one per pair of servers that ever talked).
   */
  readonly #links = new Map<NodeId, Map<NodeId, Flight[]>>();
  readonly #inFlightByDestination = new Map<NodeId, Set<Flight>>();
  #due: DueBatch | null = null;
  #sent = 0;
  #delivered = 0;
  #duplicated = 0;
  readonly #dropped: Record<DropReason, number> = {
    random: 0,
    partitioned: 0,
    blocked: 0,
    filtered: 0,
    'queue-full': 0,
    unreachable: 0,
    stopped: 0,
    invalid: 0,
  };

  constructor(options: InProcessNetworkOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#queueMessagesMax = options.queueMessagesMax ?? inProcessNetworkDefaults.queueMessagesMax;
    if (!(Number.isInteger(this.#queueMessagesMax) && this.#queueMessagesMax > 0)) {
      throw new RaftError('INVALID_CONFIG', 'queueMessagesMax must be a positive integer');
    }
    this.#onEvent = options.onEvent;
    this.#faults = { ...perfectNetwork, ...options.faults };
    checkFaults(this.#faults);
  }

  /** A new transport on this network. Each server needs its own. */
  transport(): InProcessTransport {
    return new InProcessTransport(this.#port);
  }

  /** The faults in force. */
  get faults(): NetworkFaults {
    return this.#faults;
  }

  /** Changes some of the random faults; fields left out keep their current value. */
  setFaults(faults: Partial<NetworkFaults>): void {
    const next = { ...this.#faults, ...faults };
    checkFaults(next);
    this.#faults = next;
  }

  /** Installs (or with `null` removes) the hook that sees every message as it is sent. */
  setInterceptor(interceptor: MessageInterceptor | null): void {
    this.#interceptor = interceptor;
  }

  /**
   * Cuts every link, both ways, between servers of different groups: `partition(['a'], ['b', 'c'])`
   * isolates a. Servers named in no group keep their links. Adds to earlier cuts until `heal()`.
   * Messages already in flight across a new cut are lost.
   */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    groups.forEach((group, groupIndex) => {
      for (const other of groups.slice(groupIndex + 1)) {
        for (const a of group) {
          for (const b of other) {
            this.#partitioned.add(linkKey(a, b));
            this.#partitioned.add(linkKey(b, a));
          }
        }
      }
    });
  }

  /** Cuts the link from `from` to `to` only: `to` can still reach `from`. */
  block(from: NodeId, to: NodeId): void {
    this.#blocked.add(linkKey(from, to));
  }

  /** Restores one link cut by {@link block}. */
  unblock(from: NodeId, to: NodeId): void {
    this.#blocked.delete(linkKey(from, to));
  }

  /** Restores every link cut by {@link partition} or {@link block}. Random faults stay. */
  heal(): void {
    this.#partitioned.clear();
    this.#blocked.clear();
  }

  /** Counters since the network was created. */
  stats(): InProcessNetworkStats {
    let inFlight = 0;
    for (const flights of this.#inFlightByDestination.values()) inFlight += flights.size;
    return {
      sent: this.#sent,
      delivered: this.#delivered,
      duplicated: this.#duplicated,
      dropped: { ...this.#dropped },
      inFlight,
    };
  }

  /** The servers whose transports are started. */
  nodes(): NodeId[] {
    return [...this.#handlers.keys()];
  }

  readonly #port: NetworkPort = {
    register: (self, handler) => this.#register(self, handler),
    unregister: (self) => this.#unregister(self),
    accept: (self, message) => this.#accept(self, message),
  };

  #register(self: NodeId, handler: MessageHandler): boolean {
    if (this.#handlers.has(self)) return false;
    this.#handlers.set(self, handler);
    return true;
  }

  // Messages still in flight to a server that leaves are lost, as they would be on a real network.
  #unregister(self: NodeId): void {
    this.#handlers.delete(self);
    const flights = this.#inFlightByDestination.get(self);
    if (flights === undefined) return;
    for (const flight of [...flights]) this.#drop(flight, 'unreachable');
  }

  #accept(self: NodeId | null, message: Message): void {
    this.#sent++;
    this.#onEvent?.({ kind: 'send', message });
    if (self === null) return this.#count(message, 'stopped');
    if (message.from !== self) return this.#count(message, 'invalid');
    const intercepted = this.#interceptor === null ? message : this.#interceptor(message);
    if (intercepted === null) return this.#count(message, 'filtered');
    const cut = this.#cutReason(intercepted);
    if (cut !== null) return this.#count(intercepted, cut);
    if (!this.#handlers.has(intercepted.to)) return this.#count(intercepted, 'unreachable');
    const faults = this.#faults;
    if (faults.dropRate > 0 && this.#random() < faults.dropRate) {
      return this.#count(intercepted, 'random');
    }
    const duplicate = faults.duplicateRate > 0 && this.#random() < faults.duplicateRate;
    const reordered = faults.reorderRate > 0 && this.#random() < faults.reorderRate;
    this.#enqueue(intercepted, !reordered);
    if (duplicate) {
      this.#duplicated++;
      this.#enqueue(intercepted, false);
    }
  }

  #enqueue(message: Message, ordered: boolean): void {
    let destination = this.#inFlightByDestination.get(message.to);
    if (destination === undefined) {
      destination = new Set();
      this.#inFlightByDestination.set(message.to, destination);
    }
    if (destination.size >= this.#queueMessagesMax) return this.#count(message, 'queue-full');
    let delayMs = this.#sampleDelayMs();
    let link: Flight[] | null = null;
    if (ordered) {
      link = this.#link(message.from, message.to);
    } else if (this.#faults.reorderRate > 0) {
      delayMs += this.#random() * this.#faults.reorderDelayMsMax;
    }
    const flight: Flight = {
      message,
      link,
      timer: null,
      due: null,
      linked: link !== null,
      done: false,
    };
    link?.push(flight);
    destination.add(flight);
    if (delayMs > 0) {
      flight.timer = this.#clock.schedule(delayMs, () => this.#arrive(flight));
      return;
    }
    if (this.#due === null) {
      const flights: Flight[] = [];
      const timer = this.#clock.schedule(0, () => this.#arriveDue(flights));
      this.#due = { flights, timer, live: 0 };
    }
    flight.due = this.#due;
    this.#due.flights.push(flight);
    this.#due.live++;
  }

  #link(from: NodeId, to: NodeId): Flight[] {
    let links = this.#links.get(from);
    if (links === undefined) {
      links = new Map();
      this.#links.set(from, links);
    }
    let link = links.get(to);
    if (link === undefined) {
      link = [];
      links.set(to, link);
    }
    return link;
  }

  /** Delivers a batch of messages due at once, oldest first; later sends start a new batch. */
  #arriveDue(flights: readonly Flight[]): void {
    if (this.#due?.flights === flights) this.#due = null;
    for (const flight of flights) {
      flight.due = null;
      this.#arrive(flight);
    }
  }

  #sampleDelayMs(): number {
    const { delayMsMin, delayMsMax } = this.#faults;
    if (delayMsMax === delayMsMin) return delayMsMin;
    return delayMsMin + this.#random() * (delayMsMax - delayMsMin);
  }

  #arrive(flight: Flight): void {
    if (flight.done) return;
    const link = flight.link;
    if (link === null) return this.#deliver(flight);
    // Timers with different delays may fire out of order; everything queued ahead on the link goes
    // first, which keeps each link first-in-first-out whatever the clock does.
    for (;;) {
      const head = link.shift();
      if (head === undefined) break;
      head.linked = false;
      this.#deliver(head);
      if (head === flight) break;
    }
  }

  #deliver(flight: Flight): void {
    if (flight.done) return;
    const reason = this.#cutReason(flight.message);
    if (reason !== null) return this.#drop(flight, reason);
    const handler = this.#handlers.get(flight.message.to);
    if (handler === undefined) return this.#drop(flight, 'unreachable');
    this.#settle(flight);
    this.#delivered++;
    this.#onEvent?.({ kind: 'deliver', message: flight.message });
    handler(flight.message);
  }

  #drop(flight: Flight, reason: DropReason): void {
    this.#settle(flight);
    this.#count(flight.message, reason);
  }

  #settle(flight: Flight): void {
    flight.done = true;
    flight.timer?.cancel();
    if (flight.due !== null) this.#settleDue(flight.due);
    if (flight.linked) {
      flight.linked = false;
      const position = flight.link!.indexOf(flight);
      if (position !== -1) flight.link!.splice(position, 1);
    }
    this.#inFlightByDestination.get(flight.message.to)?.delete(flight);
  }

  /** A flight of a pending batch is settled early: the batch's timer goes once none is left. */
  #settleDue(due: DueBatch): void {
    if (--due.live > 0) return;
    due.timer.cancel();
    if (this.#due === due) this.#due = null;
  }

  #count(message: Message, reason: DropReason): void {
    this.#dropped[reason]++;
    this.#onEvent?.({ kind: 'drop', message, reason });
  }

  #cutReason(message: Message): DropReason | null {
    // Checked for every message at its send and at its delivery: without cuts, skip building the
    // link's key.
    if (this.#partitioned.size === 0 && this.#blocked.size === 0) return null;
    const key = linkKey(message.from, message.to);
    if (this.#partitioned.has(key)) return 'partitioned';
    if (this.#blocked.has(key)) return 'blocked';
    return null;
  }
}
