import { afterEach, describe, expect, it } from 'vitest';
import type { Entry, NodeId, SnapshotMeta } from '../core/index.js';
import { configurationOf } from '../core/index.js';
import type { Message, Transport } from '../transport/transport.js';

/** A set of transports that can reach each other, one per node id, not yet started. */
export interface TransportFixture {
  readonly transports: ReadonlyMap<NodeId, Transport>;
  /** Called once every transport has started, e.g. to publish ephemeral ports to discovery. */
  started?(): Promise<void> | void;
  /** Releases whatever `create` made; the suite has stopped the transports already. */
  destroy?(): Promise<void> | void;
}

/** How the contract suite makes the transports under test. */
export interface TransportContractOptions {
  /** Names the `describe` block; defaults to "Transport contract". */
  readonly name?: string;
  /** Transports for `ids` that deliver to each other in real time. */
  create(ids: readonly NodeId[]): Promise<TransportFixture> | TransportFixture;
  /** Longest wait for a delivery, in milliseconds; defaults to 10 seconds. */
  readonly deliveryTimeoutMs?: number;
}

/** Bytes of the large snapshot chunk. */
const largeChunkBytes = 1024 * 1024;
/** Entries and bytes per entry in the large append. */
const largeAppendEntries = 64;
const largeAppendEntryBytes = 16 * 1024;
/** Messages in the many-messages test. */
const manyMessagesCount = 2000;
/** How long the suite watches for a delivery that must not happen. */
const quietPeriodMs = 150;

function bytes(length: number, seed: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let index = 0; index < length; index++) data[index] = (index * 31 + seed) & 0xff;
  return data;
}

const snapshot: SnapshotMeta = {
  index: 90,
  term: 4,
  configuration: {
    ...configurationOf(['a', 'b', 'c'], { learners: ['d'], addresses: { a: 'host-a:7000' } }),
    outgoingVoters: ['a', 'b'],
  },
  settings: { preVote: true, checkQuorum: false },
};

const entries: Entry[] = [
  { kind: 'noop', index: 91, term: 5 },
  { kind: 'command', index: 92, term: 5, data: bytes(100, 1) },
  { kind: 'command', index: 93, term: 5, data: new Uint8Array(0) },
  { kind: 'configuration', index: 94, term: 5, configuration: snapshot.configuration },
  { kind: 'settings', index: 95, term: 5, settings: { preVote: false, checkQuorum: true } },
];

/** One message of every type from `from` to `to`, with every field set to something telling. */
export function sampleMessages(from: NodeId, to: NodeId): Message[] {
  const base = { term: 5, from, to };
  return [
    {
      type: 'request-vote',
      ...base,
      lastLogIndex: 9,
      lastLogTerm: 4,
      preVote: true,
      transfer: false,
    },
    { type: 'request-vote-response', ...base, preVote: false, granted: true },
    { type: 'append-entries', ...base, prevLogIndex: 90, prevLogTerm: 4, entries, commit: 91 },
    {
      type: 'append-entries-response',
      ...base,
      success: false,
      rejectedIndex: 90,
      hintIndex: 80,
      hintTerm: 3,
    },
    { type: 'heartbeat', ...base, commit: 91, context: 7 },
    { type: 'heartbeat-response', ...base, context: 7 },
    { type: 'timeout-now', ...base },
    {
      type: 'install-snapshot',
      ...base,
      snapshot,
      offset: 4096,
      data: bytes(300, 2),
      totalBytes: 4396,
      checksum: 0xdeadbeef,
      done: true,
    },
    {
      type: 'install-snapshot-response',
      ...base,
      snapshotIndex: 90,
      bytesReceived: 4396,
      success: true,
    },
    { type: 'read-index', ...base, context: 12 },
    { type: 'read-index-response', ...base, context: 12, index: -1 },
    {
      type: 'forward-proposal',
      from,
      to,
      requestId: 3,
      commands: [bytes(10, 3), new Uint8Array(0)],
    },
    {
      type: 'forward-result',
      from,
      to,
      requestId: 3,
      outcomes: [
        { status: 'applied', result: bytes(4, 5) },
        {
          status: 'failed',
          code: 'NOT_LEADER',
          message: 'not the leader',
          outcome: 'not-applied',
          reason: null,
        },
        {
          status: 'failed',
          code: 'COMMAND_REJECTED',
          message: 'over the limit',
          outcome: 'not-applied',
          reason: 'LIMIT',
        },
      ],
      leaderId: 'c',
    },
    { type: 'join-request', from, to, requestId: 4 },
    {
      type: 'join-response',
      from,
      to,
      requestId: 4,
      leaderId: 'c',
      configuration: { voters: ['c'], outgoingVoters: [], learners: [to], addresses: { c: 'h:1' } },
      errorCode: null,
      errorMessage: '',
    },
  ];
}

// Byte arrays may arrive as Buffer or as a view of a larger buffer; compare their contents only.
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('base64')}`;
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalize(item)]));
  }
  return value;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Running {
  readonly fixture: TransportFixture;
  readonly inboxes: Map<NodeId, Message[]>;
  readonly transport: (id: NodeId) => Transport;
}

/**
 * The executable contract every {@link Transport} must meet, as a Vitest suite: every message type
 * arrives intact, many and large messages arrive, sending to an unknown or stopped peer never
 * throws, and `stop` is idempotent and ends delivery. An adapter's test is one call:
 *
 * ```ts
 * transportContract({ name: 'MyTransport', create: (ids) => ({ transports: makeTransports(ids) }) });
 * ```
 */
export function transportContract(options: TransportContractOptions): void {
  const timeoutMs = options.deliveryTimeoutMs ?? 10_000;
  const cleanups: (() => Promise<void>)[] = [];

  async function start(ids: readonly NodeId[]): Promise<Running> {
    const fixture = await options.create(ids);
    const inboxes = new Map<NodeId, Message[]>();
    cleanups.push(async () => {
      await Promise.all([...fixture.transports.values()].map((transport) => transport.stop()));
      await fixture.destroy?.();
    });
    for (const id of ids) {
      const inbox: Message[] = [];
      inboxes.set(id, inbox);
      await fixture.transports.get(id)!.start(id, (message) => inbox.push(message));
    }
    await fixture.started?.();
    return { fixture, inboxes, transport: (id) => fixture.transports.get(id)! };
  }

  describe(options.name ?? 'Transport contract', () => {
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    it('delivers every message type intact', async () => {
      const { inboxes, transport } = await start(['a', 'b']);
      const sent = sampleMessages('a', 'b');
      for (const message of sent) transport('a').send(message);
      const inbox = inboxes.get('b')!;
      await waitFor(() => inbox.length >= sent.length, 'every message type', timeoutMs);
      const byType = (messages: Message[]) =>
        [...messages].sort((x, y) => x.type.localeCompare(y.type)).map(normalize);
      expect(byType(inbox)).toEqual(byType(sent));
    });

    it('delivers in both directions among three nodes', async () => {
      const ids = ['a', 'b', 'c'];
      const { inboxes, transport } = await start(ids);
      for (const from of ids) {
        for (const to of ids) {
          if (from !== to) transport(from).send({ type: 'timeout-now', term: 1, from, to });
        }
      }
      await waitFor(() => ids.every((id) => inboxes.get(id)!.length === 2), 'all pairs', timeoutMs);
      for (const id of ids) {
        const senders = inboxes
          .get(id)!
          .map((message) => message.from)
          .sort();
        expect(senders).toEqual(ids.filter((other) => other !== id));
      }
    });

    it('delivers many messages', async () => {
      const { inboxes, transport } = await start(['a', 'b']);
      for (let commit = 0; commit < manyMessagesCount; commit++) {
        transport('a').send({ type: 'heartbeat', term: 1, from: 'a', to: 'b', commit, context: 0 });
      }
      const inbox = inboxes.get('b')!;
      await waitFor(() => inbox.length >= manyMessagesCount, 'many messages', timeoutMs);
      const commits = inbox.map((message) => (message.type === 'heartbeat' ? message.commit : -1));
      expect(commits.sort((x, y) => x - y)).toEqual([...Array(manyMessagesCount).keys()]);
    });

    it('delivers large messages', async () => {
      const { inboxes, transport } = await start(['a', 'b']);
      const chunk: Message = {
        type: 'install-snapshot',
        term: 2,
        from: 'a',
        to: 'b',
        snapshot,
        offset: 0,
        data: bytes(largeChunkBytes, 9),
        totalBytes: largeChunkBytes * 2,
        checksum: 7,
        done: false,
      };
      const append: Message = {
        type: 'append-entries',
        term: 2,
        from: 'a',
        to: 'b',
        prevLogIndex: 0,
        prevLogTerm: 0,
        commit: 0,
        entries: Array.from({ length: largeAppendEntries }, (_, offset) => ({
          kind: 'command' as const,
          index: offset + 1,
          term: 2,
          data: bytes(largeAppendEntryBytes, offset),
        })),
      };
      transport('a').send(chunk);
      transport('a').send(append);
      const inbox = inboxes.get('b')!;
      await waitFor(() => inbox.length >= 2, 'large messages', timeoutMs);
      const byType = (messages: Message[]) =>
        [...messages].sort((x, y) => x.type.localeCompare(y.type)).map(normalize);
      expect(byType(inbox)).toEqual(byType([chunk, append]));
    });

    it('never throws when sending to an unknown or stopped peer', async () => {
      const { inboxes, transport } = await start(['a', 'b', 'c']);
      await transport('c').stop();
      expect(() =>
        transport('a').send({ type: 'timeout-now', term: 1, from: 'a', to: 'nobody' }),
      ).not.toThrow();
      expect(() =>
        transport('a').send({ type: 'timeout-now', term: 1, from: 'a', to: 'c' }),
      ).not.toThrow();
      transport('a').send({ type: 'timeout-now', term: 2, from: 'a', to: 'b' });
      await waitFor(() => inboxes.get('b')!.length === 1, 'delivery to a live peer', timeoutMs);
      expect(inboxes.get('c')).toEqual([]);
    });

    it('stops idempotently and delivers nothing afterwards', async () => {
      const { inboxes, transport } = await start(['a', 'b']);
      transport('a').send({ type: 'timeout-now', term: 1, from: 'a', to: 'b' });
      await waitFor(() => inboxes.get('b')!.length === 1, 'first delivery', timeoutMs);
      await transport('b').stop();
      await transport('b').stop();
      transport('a').send({ type: 'timeout-now', term: 2, from: 'a', to: 'b' });
      await new Promise((resolve) => setTimeout(resolve, quietPeriodMs));
      expect(inboxes.get('b')).toHaveLength(1);
      await transport('a').stop();
      expect(() =>
        transport('a').send({ type: 'timeout-now', term: 3, from: 'a', to: 'b' }),
      ).not.toThrow();
    });
  });
}
