import { seededRandom, type RandomSource } from '../../core/random.js';
import type { ClusterSettings, Entry } from '../../core/types.js';
import { CoreCluster, type CoreFactory } from './core-cluster.js';

/** One kind of random action and how often it is drawn, relative to the others. */
interface Action {
  readonly name: string;
  readonly weight: number;
  readonly run: () => void;
}

/** Options of a random run. */
export interface RandomDriverOptions {
  readonly voters: number;
  readonly seed: number;
  /** Relative weights by action name, replacing the defaults for the names given. */
  readonly weights?: Readonly<Record<string, number>>;
  /** Builds each core; the mutation tests plant bugs in a copy of the core through it. */
  readonly coreFactory?: CoreFactory;
}

/** Rejections the driver expects from a core and shrugs off; anything else is a failure. */
const expectedRefusals = new Set(['PROPOSAL_DROPPED', 'NOT_LEADER', 'NO_LEADER', 'BUSY']);

/**
 * The error code of `error`, read by shape rather than class: a mutated copy of the core throws
 * its own copy of the error class.
 */
function codeOf(error: unknown): string | null {
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  return typeof error.code === 'string' ? error.code : null;
}

/**
 * Rounds one settling pass may take. A follower far behind a leader that sends one entry per
 * message, one message at a time, needs two rounds per entry.
 */
const settleRoundsMax = 2000;

/** The share of servers whose disk is slow in a run: their writes wait for a `persist` action. */
const slowDiskShare = 0.3;

/** Ticks a `replace leader` action lets pass at most while waiting for the new leader. */
const replaceRoundsMax = 40;
/** Ready-and-deliver rounds after each of those ticks. */
const replaceSettleRounds = 3;

/** Entries of the recent transcript kept for a failure message. */
const transcriptLinesMax = 80;

/**
 * Drives a CoreCluster with random actions drawn from one seed: ticks, Ready processing, message
 * delivery out of order, loss and duplication, proposals, ReadIndex reads, partitions and restarts.
 * A Ready is worked through in three stages (take and send what needs nothing durable, persist,
 * send what promised durable state), and other actions, restarts included, may fall between any
 * two: a crash between a save and its send loses the send, one before the save loses the write.
 * The seed also picks the cluster settings, the message limits, the fault intensity and the
 * election jitter, so a failing seed replays exactly. The cluster's checkers judge every read
 * answer as it is taken, against the floor the driver registers when it asks.
 */
export class RandomDriver {
  readonly cluster: CoreCluster;
  readonly settings: ClusterSettings;
  /** How often faults are drawn in this run, from 0 (never) to 1 (twice the default weights). */
  readonly faultIntensity: number;
  readonly #random: RandomSource;
  readonly #ids: string[];
  readonly #actions: readonly Action[];
  readonly #weightTotal: number;
  readonly #transcript: string[] = [];
  /** Servers whose writes lag behind their sends, drawn per seed. */
  readonly #slowDisks: ReadonlySet<string>;
  #proposals = 0;

  constructor(options: RandomDriverOptions) {
    this.#random = seededRandom(options.seed);
    this.settings = { preVote: this.#chance(0.5), checkQuorum: this.#chance(0.5) };
    this.cluster = new CoreCluster({
      voters: options.voters,
      settings: this.settings,
      ...(options.coreFactory === undefined ? {} : { coreFactory: options.coreFactory }),
      core: {
        // A short election timeout keeps runs short; jitter comes from its own seeded generator.
        electionTicks: 3,
        heartbeatTicks: 1,
        random: seededRandom(options.seed ^ 0x5eed),
        // Tight limits split replication into many small messages and pause pipelines, which
        // opens the interleavings (an old entry on a majority before the new leader's own entry,
        // a follower's stale tail beyond a short append) that the safety rules exist for.
        entriesPerMessageMax: this.#pickFrom([1, 2, 1024]),
        inflightMessagesMax: this.#pickFrom([1, 2, 256]),
      },
    });
    this.#ids = [...this.cluster.servers.keys()];
    // Message handling outweighs ticks, as on a real network where a round trip is far shorter
    // than a tick: elections and CheckQuorum then fail because of faults, not because time raced.
    const defaults: Action[] = [
      { name: 'tick', weight: 4, run: () => this.cluster.tick(this.#pickServer(), 1) },
      { name: 'tick all', weight: 4, run: () => this.#tickAll() },
      { name: 'ready', weight: 10, run: () => this.#process(this.#pickServer()) },
      { name: 'ready all', weight: 20, run: () => this.#processAll() },
      { name: 'take ready', weight: 6, run: () => this.cluster.takeReady(this.#pickServer()) },
      { name: 'persist', weight: 10, run: () => this.#persistOne() },
      { name: 'finish ready', weight: 6, run: () => this.cluster.finishReady(this.#pickServer()) },
      { name: 'deliver', weight: 20, run: () => this.#deliverOne() },
      { name: 'deliver all', weight: 20, run: () => this.cluster.deliver() },
      { name: 'drop', weight: 3, run: () => this.#dropOne() },
      { name: 'duplicate', weight: 2, run: () => this.#duplicateOne() },
      { name: 'propose', weight: 8, run: () => this.#propose() },
      { name: 'read', weight: 6, run: () => this.#read() },
      { name: 'read all', weight: 4, run: () => this.#readAll() },
      { name: 'partition', weight: 3, run: () => this.#partition() },
      { name: 'isolate leader', weight: 2, run: () => this.#isolateLeader() },
      { name: 'replace leader', weight: 1, run: () => this.#replaceLeader() },
      { name: 'heal', weight: 2, run: () => this.cluster.heal() },
      { name: 'restart', weight: 2, run: () => this.#restart() },
      { name: 'crash after persist', weight: 2, run: () => this.#crashAfterPersist() },
    ];
    // Each seed draws its own fault intensity: some runs are calm enough to make steady progress,
    // others are storms. Heal keeps its weight, so partitions end at the same rate regardless.
    this.faultIntensity = this.#random();
    const faults = new Set([
      'drop',
      'duplicate',
      'partition',
      'isolate leader',
      'replace leader',
      'restart',
      'crash after persist',
    ]);
    this.#actions = defaults.map((action) => {
      const weight = options.weights?.[action.name] ?? action.weight;
      return {
        ...action,
        weight: faults.has(action.name) ? weight * 2 * this.faultIntensity : weight,
      };
    });
    this.#weightTotal = this.#actions.reduce((sum, action) => sum + action.weight, 0);
    this.#slowDisks = new Set(this.#ids.filter(() => this.#chance(slowDiskShare)));
  }

  /** Performs one random action. */
  step(): void {
    let draw = this.#random() * this.#weightTotal;
    // Rounding may leave a sliver past the last weight; that draw goes to the last action.
    const chosen =
      this.#actions.find((action) => (draw -= action.weight) < 0) ?? this.#actions.at(-1)!;
    chosen.run();
    this.#record();
  }

  /** The last lines of what happened, for a failure message. */
  transcript(): string {
    return this.#transcript.join('\n');
  }

  /**
   * The liveness phase: no more faults. Heals the network and ticks every server, settling the
   * cluster after each tick, until a leader has committed a proposal on every server. Returns the
   * ticks it took; throws after `ticksMax`.
   */
  settle(ticksMax: number): number {
    this.cluster.heal();
    const proposedInTerm = new Set<number>();
    const marker = new TextEncoder().encode('liveness');
    const holdsMarker = (applied: readonly Entry[]): boolean =>
      applied.some((entry) => entry.kind === 'command' && sameBytes(entry.data, marker));
    for (let tick = 1; tick <= ticksMax; tick++) {
      for (const id of this.#ids) this.cluster.tick(id, 1);
      this.cluster.stabilize(settleRoundsMax);
      const leader = this.#ids.find((id) => this.cluster.core(id).role === 'leader');
      if (leader !== undefined) {
        const term = this.cluster.core(leader).term;
        // A leader deposed before committing may lose the proposal: propose again in each term.
        if (!proposedInTerm.has(term)) {
          proposedInTerm.add(term);
          this.cluster.core(leader).propose([marker]);
          this.cluster.stabilize(settleRoundsMax);
        }
      }
      this.#record();
      if (this.#ids.every((id) => holdsMarker(this.cluster.server(id).applied))) return tick;
    }
    throw new Error(`no proposal committed on every server within ${ticksMax} ticks`);
  }

  #record(): void {
    const output = this.cluster.takeOutput();
    if (output !== '') this.#transcript.push(...output.split('\n'));
    if (this.#transcript.length > transcriptLinesMax) {
      this.#transcript.splice(0, this.#transcript.length - transcriptLinesMax);
    }
  }

  #chance(probability: number): boolean {
    return this.#random() < probability;
  }

  #pick(count: number): number {
    return Math.floor(this.#random() * count);
  }

  #pickFrom(choices: readonly number[]): number {
    return choices[this.#pick(choices.length)]!;
  }

  #pickServer(): string {
    return this.#ids[this.#pick(this.#ids.length)]!;
  }

  /** Time passes for everyone at once, so a partition can outlast an election timeout. */
  #tickAll(): void {
    for (const id of this.#ids) this.cluster.tick(id, 1);
  }

  #processAll(): void {
    for (const id of this.#ids) this.#process(id);
  }

  /**
   * Works through a server's Ready. A server with a slow disk only takes and finishes: its writes
   * wait for a `persist` action, so its messages and its peers' answers overtake them.
   */
  #process(id: string): void {
    if (!this.#slowDisks.has(id)) {
      this.cluster.processReady(id);
      return;
    }
    if (this.cluster.persistedNotSent(id)) this.cluster.finishReady(id);
    this.cluster.takeReady(id);
  }

  /** Lets one server's disk catch up with the Ready it is writing. */
  #persistOne(): void {
    const writing = this.#ids.filter((id) => this.cluster.writing(id));
    if (writing.length > 0) this.cluster.persistReady(writing[this.#pick(writing.length)]!);
  }

  #deliverOne(): void {
    if (this.cluster.mailbox.length === 0) return;
    this.cluster.deliverAt(this.#pick(this.cluster.mailbox.length));
  }

  #dropOne(): void {
    if (this.cluster.mailbox.length === 0) return;
    this.cluster.dropAt(this.#pick(this.cluster.mailbox.length));
  }

  #duplicateOne(): void {
    if (this.cluster.mailbox.length === 0) return;
    const message = this.cluster.mailbox[this.#pick(this.cluster.mailbox.length)]!;
    this.cluster.mailbox.push(message);
    this.cluster.log(`duplicate ${message.from}->${message.to} ${message.type}`);
  }

  #propose(): void {
    const leader = this.#ids.find((id) => this.cluster.core(id).role === 'leader');
    if (leader === undefined) return;
    const commands = Array.from({ length: 1 + this.#pick(3) }, () =>
      new TextEncoder().encode(`c${++this.#proposals}`),
    );
    const placement = this.cluster.core(leader).propose(commands);
    if (placement.placed) {
      this.cluster.log(`propose ${leader} ok ${placement.firstIndex}..${placement.lastIndex}`);
    } else if (placement.error.code === 'PROPOSAL_DROPPED') {
      this.cluster.log(`propose ${leader} dropped`);
    } else {
      throw placement.error;
    }
  }

  /**
   * Asks a server for a read index; the answer is judged when the server takes it. Half the reads
   * go to the server that has believed longest that it leads (the lowest term): clients keep
   * asking the leader they know, even once it is cut off and replaced.
   */
  #read(): void {
    const leaders = this.#ids.filter((id) => this.cluster.core(id).role === 'leader');
    leaders.sort((a, b) => this.cluster.core(a).term - this.cluster.core(b).term);
    this.#readAt(leaders.length > 0 && this.#chance(0.5) ? leaders[0]! : this.#pickServer());
  }

  /** Every server asks for a read at once: a burst of clients, some of them at a stale leader. */
  #readAll(): void {
    for (const id of this.#ids) this.#readAt(id);
  }

  #readAt(id: string): void {
    const floor = Math.max(
      ...this.#ids.map((other) => this.cluster.core(other).status().commitIndex),
    );
    const context = this.cluster.checkers.readIndex.request(id, floor);
    try {
      this.cluster.core(id).readIndex(context);
      this.cluster.log(`read ${id} context=${context} floor=${floor}`);
    } catch (error) {
      this.cluster.checkers.readIndex.cancel(context);
      const code = codeOf(error);
      if (code === null || !expectedRefusals.has(code)) throw error;
    }
  }

  #partition(): void {
    // A random proper, non-empty subset against the rest, so every partition cuts something.
    const shuffled = [...this.#ids];
    for (let position = shuffled.length - 1; position > 0; position--) {
      const other = this.#pick(position + 1);
      [shuffled[position], shuffled[other]] = [shuffled[other]!, shuffled[position]!];
    }
    const cut = 1 + this.#pick(shuffled.length - 1);
    const left = shuffled.slice(0, cut);
    const right = shuffled.slice(cut);
    this.cluster.heal();
    this.cluster.partition(left, right);
    this.cluster.log(`partition ${left.join(' ')} | ${right.join(' ')}`);
  }

  /** Cuts the leader off from everyone, the surest way to force a new election. */
  #isolateLeader(): void {
    const leader = this.#ids.find((id) => this.cluster.core(id).role === 'leader');
    if (leader === undefined) return;
    this.cluster.heal();
    this.cluster.isolate(leader);
    this.cluster.log(`isolate ${leader}`);
  }

  /**
   * Cuts the leader off and lets time pass for everyone, delivering as it goes, until another
   * server leads in a later term and has committed (bounded). Without CheckQuorum the old leader
   * still believes it leads, so clients that keep asking it meet a stale leader.
   */
  #replaceLeader(): void {
    const old = this.#ids.find((id) => this.cluster.core(id).role === 'leader');
    if (old === undefined) return;
    const term = this.cluster.core(old).term;
    this.cluster.heal();
    this.cluster.isolate(old);
    this.cluster.log(`replace leader ${old}`);
    const replaced = (): boolean =>
      this.#ids.some((id) => {
        const core = this.cluster.core(id);
        const status = core.status();
        return (
          status.role === 'leader' &&
          status.term > term &&
          core.entry(status.commitIndex)?.term === status.term
        );
      });
    for (let round = 0; round < replaceRoundsMax && !replaced(); round++) {
      this.#tickAll();
      for (let settle = 0; settle < replaceSettleRounds; settle++) {
        this.#processAll();
        this.cluster.deliver({ quiet: true });
      }
    }
    this.#processAll();
  }

  #restart(): void {
    this.#restartServer(this.#pickServer(), 'restart');
  }

  /** Crashes a server that wrote a Ready and has not sent what depends on it yet, if any. */
  #crashAfterPersist(): void {
    const candidates = this.#ids.filter((id) => this.cluster.persistedNotSent(id));
    if (candidates.length === 0) return;
    this.#restartServer(candidates[this.#pick(candidates.length)]!, 'crash after persist, restart');
  }

  #restartServer(id: string, words: string): void {
    this.cluster.restart(id);
    this.cluster.log(`${words} ${id}`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, position) => byte === b[position]);
}
