import { RaftError } from '../../core/errors.js';
import type { RandomSource } from '../../core/random.js';
import type { NodeId } from '../../core/types.js';
import { HistoryRecorder } from '../linearizability/history-recorder.js';
import type { KeyValueInput, KeyValueOutput } from '../linearizability/key-value-model.js';
import { commandKey } from '../checkers/entry-key.js';
import { encodeKeyValueCommand } from './key-value-state-machine.js';
import type { SimCluster } from './sim-cluster.js';

/** Options of {@link KeyValueWorkload}. */
export interface KeyValueWorkloadOptions {
  /** Concurrent clients; each waits for its operation before the next. */
  readonly clients: number;
  /** Longest pause of a client between operations, in virtual milliseconds. */
  readonly thinkMsMax: number;
  /** Keys the clients use; few keys make conflicts likely. */
  readonly keys?: readonly string[];
  /** Share of operations that are reads. Default 0.3. */
  readonly readRate?: number;
  /**
   * How `get` is served: `log` proposes it as a command; `linearizable` and `lease` use
   * `RaftNode.read` with that consistency (both must be linearizable); `mixed` draws one of those
   * or a `stale` read for every `get`. Default `log`.
   */
  readonly readPath?: ReadPath;
  /**
   * Share of clients that write through a client session (docs/sessions.md): they retry a write
   * whose outcome is unknown under the same session number until it is known, and the
   * exactly-once checker verifies none of their writes applied twice. Default 0.5.
   */
  readonly sessionClientRate?: number;
  /** Operations recorded at most; the workload stops issuing beyond it. Default 10,000. */
  readonly operationsMax?: number;
  readonly random: RandomSource;
}

/** How the workload's reads reach the state machine. */
export type ReadPath = 'log' | 'linearizable' | 'lease' | 'mixed';

/** How one `get` is served. */
type ReadMode = 'log' | 'linearizable' | 'lease' | 'stale';

/** The modes a `mixed` read path draws from, evenly. */
const mixedReadModes: readonly ReadMode[] = ['log', 'linearizable', 'lease', 'stale'];

/** Stale reads kept for the final check at most; later ones are not recorded. */
export const staleReadsMax = 10_000;

/** A stale read's answer, judged after the run: it may lag, but only behind real writes. */
export interface StaleRead {
  readonly key: string;
  readonly value: string;
  readonly description: string;
}

/** Defaults of {@link KeyValueWorkloadOptions}. */
export const keyValueWorkloadDefaults: {
  readonly keys: readonly string[];
  readonly readRate: number;
  readonly readPath: ReadPath;
  readonly operationsMax: number;
  readonly sessionClientRate: number;
} = Object.freeze({
  keys: Object.freeze(['a', 'b', 'c']),
  readRate: 0.3,
  readPath: 'log',
  sessionClientRate: 0.5,
  operationsMax: 10_000,
});

interface ClientState {
  readonly id: string;
  sequence: number;
  /** The node the client believes leads. */
  leaderHint: NodeId | null;
  /** The node its operation in flight went to, or null when idle. */
  waitingOn: NodeId | null;
  /** Bumped whenever the client gives up waiting, so a late answer is ignored. */
  generation: number;
  /** Set for a client that writes through a session. */
  readonly session: SessionClientState | null;
}

/** Attempts of one session write before its client gives up on learning the outcome. */
export const sessionWriteAttemptsMax = 20;

interface SessionClientState {
  /** The session's id once registered. */
  id: number | null;
  nextSequence: number;
  /** The write being retried under the same number until its outcome is known. */
  retrying: SessionWrite | null;
}

interface SessionWrite {
  readonly input: KeyValueInput;
  readonly command: Uint8Array;
  readonly sequence: number;
  readonly description: string;
  readonly handle: { ok(output: KeyValueOutput | null): void; fail(): void };
  attempts: number;
  /** Some attempt ended without proof that it stayed out of the log. */
  mayHaveApplied: boolean;
}

/**
 * Clients writing to and reading from a {@link KeyValueStateMachine} cluster, recording every
 * operation for the linearizability checker. Writes carry unique values, so an acknowledged write
 * can be looked for in the final log. Reads go through the log as `get` commands or through `RaftNode.read`.
 */
export class KeyValueWorkload {
  readonly recorder: HistoryRecorder<KeyValueInput, KeyValueOutput>;
  readonly #cluster: SimCluster<unknown, unknown, unknown>;
  readonly #options: KeyValueWorkloadOptions;
  readonly #clients: ClientState[];
  readonly #keys: readonly string[];
  /** Every value a client tried to write, by key: what a stale read may be built from. */
  readonly #written = new Map<string, Set<string>>();
  readonly #staleReads: StaleRead[] = [];
  #running = false;

  constructor(cluster: SimCluster<unknown, unknown, unknown>, options: KeyValueWorkloadOptions) {
    this.#cluster = cluster;
    this.#options = options;
    this.#keys = options.keys ?? keyValueWorkloadDefaults.keys;
    this.recorder = new HistoryRecorder({
      now: () => cluster.clock.now(),
      operationsMax: options.operationsMax ?? keyValueWorkloadDefaults.operationsMax,
    });
    const sessionClients = Math.round(
      options.clients * (options.sessionClientRate ?? keyValueWorkloadDefaults.sessionClientRate),
    );
    this.#clients = Array.from({ length: options.clients }, (_, position) => ({
      id: `c${position + 1}`,
      sequence: 0,
      leaderHint: null,
      waitingOn: null,
      generation: 0,
      session: position < sessionClients ? { id: null, nextSequence: 1, retrying: null } : null,
    }));
    cluster.listen({
      // A client talking to a process that died never hears back: it gives up and moves on, and
      // its operation stays pending (it may or may not have taken effect).
      onProcessDied: (nodeId) => {
        for (const client of this.#clients) {
          if (client.waitingOn !== nodeId) continue;
          abandon(client);
          client.leaderHint = null;
          this.#scheduleNext(client);
        }
      },
    });
  }

  /** Operations recorded so far. */
  get operations(): number {
    return this.recorder.size;
  }

  /**
   * Stale reads are not linearizable and stay out of the history; they must still return only
   * data some client wrote to that key (a stale state, never an invented one). Returns the reads
   * that break this.
   */
  staleReadsNotWritten(): StaleRead[] {
    return this.#staleReads.filter((read) => {
      const written = this.#written.get(read.key) ?? new Set<string>();
      const parts = read.value.split(' ').filter((part) => part !== '');
      return parts.some((part) => !written.has(`${part} `));
    });
  }

  /** Stale reads answered so far. */
  get staleReads(): number {
    return this.#staleReads.length;
  }

  /**
   * About half of the clients that use `nodeId` give up on it and turn to another server, as
   * clients of a server cut off by a partition would; an operation in flight there stays pending
   * (it may or may not take effect). The others keep talking to it. Called when a leader is
   * isolated: the moved clients find the new leader, and their writes there are what a stale
   * read on the old one would miss.
   */
  leaveSome(nodeId: NodeId): void {
    const others = this.#cluster.ids.filter((id) => id !== nodeId && this.#cluster.isUp(id));
    if (others.length === 0) return;
    for (const client of this.#clients) {
      if (client.waitingOn !== nodeId && client.leaderHint !== nodeId) continue;
      if (this.#options.random() < 0.5) continue;
      client.leaderHint = others[Math.floor(this.#options.random() * others.length)] ?? null;
      this.#cluster.traceClient(nodeId, `${client.id} turns to ${client.leaderHint}`);
      if (client.waitingOn !== nodeId) continue;
      abandon(client);
      this.#scheduleNext(client);
    }
  }

  /** Starts every client. */
  start(): void {
    this.#running = true;
    for (const client of this.#clients) this.#scheduleNext(client);
  }

  /** Stops issuing new operations; those in flight still complete. */
  stop(): void {
    this.#running = false;
  }

  #scheduleNext(client: ClientState): void {
    if (!this.#running) return;
    const delayMs = this.#options.random() * this.#options.thinkMsMax;
    const generation = client.generation;
    this.#cluster.clock.schedule(delayMs, () => {
      if (client.generation === generation && client.waitingOn === null) this.#issue(client);
    });
  }

  #chooseNode(client: ClientState): NodeId | null {
    const up = this.#cluster.ids.filter((id) => this.#cluster.isUp(id));
    if (client.leaderHint !== null && up.includes(client.leaderHint)) return client.leaderHint;
    if (up.length === 0) return null;
    return up[Math.floor(this.#options.random() * up.length)] ?? null;
  }

  #nextInput(client: ClientState): KeyValueInput {
    const random = this.#options.random;
    const key = this.#keys[Math.floor(random() * this.#keys.length)] ?? 'a';
    if (random() < (this.#options.readRate ?? keyValueWorkloadDefaults.readRate)) {
      return { kind: 'get', key };
    }
    client.sequence++;
    const value = `${client.id}.${client.sequence} `;
    let written = this.#written.get(key);
    if (written === undefined) {
      written = new Set();
      this.#written.set(key, written);
    }
    written.add(value);
    return { kind: random() < 0.5 ? 'put' : 'append', key, value };
  }

  #readMode(): ReadMode {
    const readPath = this.#options.readPath ?? keyValueWorkloadDefaults.readPath;
    if (readPath !== 'mixed') return readPath;
    return mixedReadModes[Math.floor(this.#options.random() * mixedReadModes.length)] ?? 'log';
  }

  #issue(client: ClientState): void {
    if (!this.#running) return;
    if (
      this.recorder.size >= (this.#options.operationsMax ?? keyValueWorkloadDefaults.operationsMax)
    ) {
      return;
    }
    const nodeId = this.#chooseNode(client);
    if (nodeId === null) {
      this.#scheduleNext(client);
      return;
    }
    if (client.session !== null && client.session.id === null) {
      this.#register(client, client.session, nodeId);
      return;
    }
    if (client.session?.retrying != null) {
      this.#proposeInSession(client, client.session, client.session.retrying, nodeId);
      return;
    }
    const input = this.#nextInput(client);
    const command = encodeKeyValueCommand(input);
    const description = describeInput(client.id, input);
    const handle = this.recorder.invoke(client.id, input);
    this.#cluster.traceClient(nodeId, description, 'invoke');
    client.waitingOn = nodeId;
    const generation = client.generation;
    const settled = (): boolean => {
      if (client.generation !== generation) return false;
      client.waitingOn = null;
      return true;
    };
    if (client.session !== null && input.kind !== 'get') {
      const session = client.session;
      const write = { input, command, description, handle, attempts: 0, mayHaveApplied: false };
      const sequence = session.nextSequence++;
      this.#cluster.checkers.exactlyOnce.track(commandKey(command), description);
      session.retrying = { ...write, sequence };
      client.waitingOn = null;
      this.#proposeInSession(client, session, session.retrying, nodeId);
      return;
    }
    const node = this.#cluster.node(nodeId);
    const mode = input.kind === 'get' ? this.#readMode() : 'log';
    const answer =
      mode === 'log' ? node.propose(command) : node.read(input.key, { consistency: mode });
    answer.then(
      (result) => {
        if (!settled()) return;
        if (mode === 'stale' && input.kind === 'get') {
          // Not judged linearizable: out of the history, kept for the written-data check.
          handle.fail();
          if (this.#staleReads.length < staleReadsMax) {
            const value = typeof result === 'string' ? result : JSON.stringify(result);
            this.#staleReads.push({ key: input.key, value, description });
          }
        } else {
          handle.ok(input.kind === 'get' ? (result as KeyValueOutput) : null);
        }
        if (input.kind !== 'get') {
          this.#cluster.checkers.acknowledgedWrites.acknowledge(commandKey(command), description);
        }
        this.#cluster.traceClient(nodeId, `${description} -> ${JSON.stringify(result)}`, 'ok');
        this.#scheduleNext(client);
      },
      (error: unknown) => {
        if (!settled()) return;
        const raftError = error instanceof RaftError ? error : null;
        // A read changes nothing, so one that failed in any way can be left out of the history.
        if (input.kind === 'get' || definitelyNotApplied(raftError)) handle.fail();
        const hint = raftError?.details.leaderId;
        client.leaderHint = typeof hint === 'string' ? hint : null;
        this.#cluster.traceClient(nodeId, `${description} !! ${raftError?.code ?? String(error)}`);
        this.#scheduleNext(client);
      },
    );
  }

  /** Registers the client's session on `nodeId`; its writes wait until that is done. */
  #register(client: ClientState, session: SessionClientState, nodeId: NodeId): void {
    client.waitingOn = nodeId;
    const generation = client.generation;
    this.#cluster.traceClient(nodeId, `${client.id} open session`, 'invoke');
    this.#cluster
      .node(nodeId)
      .openSession({ attemptsMax: 1 })
      .then(
        (opened) => {
          if (client.generation !== generation) return;
          session.id = opened.id;
          this.#cluster.traceClient(nodeId, `${client.id} session ${opened.id}`, 'ok');
        },
        (error: unknown) => {
          if (client.generation !== generation) return;
          const hint = error instanceof RaftError ? error.details.leaderId : null;
          client.leaderHint = typeof hint === 'string' ? hint : null;
        },
      )
      .finally(() => {
        if (client.generation !== generation) return;
        client.waitingOn = null;
        this.#scheduleNext(client);
      });
  }

  /**
   * One attempt of a session write. A write whose outcome is unknown stays the client's next
   * operation, proposed again under the same number, so at most one copy is applied; its history
   * entry stays open until an attempt learns the outcome.
   */
  #proposeInSession(
    client: ClientState,
    session: SessionClientState,
    write: SessionWrite,
    nodeId: NodeId,
  ): void {
    client.waitingOn = nodeId;
    write.attempts++;
    const generation = client.generation;
    const stamp = {
      id: session.id!,
      sequence: write.sequence,
      lowestUnacknowledged: write.sequence,
    };
    const retry = write.attempts > 1 ? ' (retry)' : '';
    this.#cluster.traceClient(nodeId, `${write.description}${retry}`, 'invoke');
    this.#cluster
      .node(nodeId)
      .propose(write.command, { session: stamp })
      .then(
        (result) => {
          if (client.generation !== generation) return;
          session.retrying = null;
          write.handle.ok(null);
          this.#cluster.checkers.acknowledgedWrites.acknowledge(
            commandKey(write.command),
            write.description,
          );
          this.#cluster.traceClient(
            nodeId,
            `${write.description} -> ${JSON.stringify(result)}`,
            'ok',
          );
        },
        (error: unknown) => {
          if (client.generation !== generation) return;
          const raftError = error instanceof RaftError ? error : null;
          // SESSION_EXPIRED proves this attempt was refused; anything else unproven may have applied.
          const refused = raftError?.code === 'SESSION_EXPIRED' || definitelyNotApplied(raftError);
          if (!refused) write.mayHaveApplied = true;
          const hint = raftError?.details.leaderId;
          client.leaderHint = typeof hint === 'string' ? hint : null;
          this.#cluster.traceClient(
            nodeId,
            `${write.description} !! ${raftError?.code ?? String(error)}`,
          );
          if (retryableInSession(raftError) && write.attempts < sessionWriteAttemptsMax) return;
          // Given up: a write that may have applied stays open in the history (unknown outcome).
          session.retrying = null;
          if (!write.mayHaveApplied) write.handle.fail();
          if (raftError?.code === 'SESSION_EXPIRED') session.id = null;
        },
      )
      .finally(() => {
        if (client.generation !== generation) return;
        client.waitingOn = null;
        this.#scheduleNext(client);
      });
  }
}

/**
 * The client stops waiting for its operation in flight, whose outcome is then unknown. A session
 * write abandoned this way may have applied: it is retried under its number, and if every later
 * attempt is refused, its history entry still stays open rather than being recorded as failed.
 */
function abandon(client: ClientState): void {
  client.generation++;
  client.waitingOn = null;
  if (client.session?.retrying != null) client.session.retrying.mayHaveApplied = true;
}

/** Whether a session write that failed this way may be proposed again under its number. */
function retryableInSession(error: RaftError | null): boolean {
  return (
    error !== null &&
    !['SESSION_EXPIRED', 'RESULT_DISCARDED', 'INVALID_CONFIG'].includes(error.code)
  );
}

/** Whether a rejection proves the command never took effect (otherwise its outcome is unknown). */
export function definitelyNotApplied(error: RaftError | null): boolean {
  if (error === null) return false;
  if (error.details.outcome === 'not-applied') return true;
  // These codes are only ever used before a command enters the log (see RaftError's codes).
  return (
    error.code === 'NOT_LEADER' ||
    error.code === 'NO_LEADER' ||
    error.code === 'BUSY' ||
    error.code === 'PROPOSAL_DROPPED' ||
    error.code === 'STOPPED'
  );
}

function describeInput(clientId: string, input: KeyValueInput): string {
  if (input.kind === 'get') return `${clientId} get ${input.key}`;
  return `${clientId} ${input.kind} ${input.key}=${input.value.trim()}`;
}
