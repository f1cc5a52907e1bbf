// Snapshots, measured: how fast a snapshot travels between two servers over real TCP, and what
// compaction buys at restart — a node that took many writes restarts from its snapshot plus a
// short log tail, and its data directory stays small. A program that prints a table and writes
// bench/results/snapshots.json; never a timed test.
//
//   node --conditions=raftkit-source --import tsx bench/snapshots.ts \
//     [--snapshot-mib 64] [--writes 1000000] [--in-flight 2048]
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RaftNode, type ApplyContext, type StateMachine } from 'raftkit';
import { StaticDiscovery } from 'raftkit/discovery';
import { FileStorage } from 'raftkit/storage/file';
import { MemoryStorage } from 'raftkit/storage/memory';
import { TcpTransport } from 'raftkit/transport/tcp';
import { describeMachine } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    'snapshot-mib': { type: 'string', default: '64' },
    writes: { type: 'string', default: '1000000' },
    'in-flight': { type: 'string', default: '2048' },
  },
});
const snapshotMiB = Number(values['snapshot-mib']);
const writes = Number(values.writes);
const inFlight = Number(values['in-flight']);
const chunkBytes = 1024 * 1024;

/**
 * A counter that also holds `payloadBytes` of state, so its snapshot has a chosen size; restore
 * counts the bytes it received and keeps none of them.
 */
class PayloadMachine implements StateMachine<number> {
  total = 0;
  restoredBytes = 0;
  restoredAtMs: number | null = null;
  readonly #payloadBytes: number;

  constructor(payloadBytes: number) {
    this.#payloadBytes = payloadBytes;
  }

  apply(command: Uint8Array, _context: ApplyContext): number {
    this.total += command.byteLength;
    return this.total;
  }

  *snapshot(): Iterable<Uint8Array> {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setFloat64(0, this.total);
    yield header;
    const chunk = new Uint8Array(chunkBytes).fill(7);
    for (let sent = 0; sent < this.#payloadBytes; sent += chunkBytes) {
      yield chunk.subarray(0, Math.min(chunkBytes, this.#payloadBytes - sent));
    }
  }

  async restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    let bytes = 0;
    let header: Uint8Array | null = null;
    for await (const chunk of chunks) {
      if (header === null) header = chunk.slice(0, 8);
      bytes += chunk.byteLength;
    }
    this.total = header === null ? 0 : new DataView(header.buffer).getFloat64(0);
    this.restoredBytes = bytes;
    this.restoredAtMs = performance.now();
  }
}

/** A port nothing listens on right now, from the operating system. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUntil(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A snapshot of `snapshotMiB` sent over TCP: two of three voters run, write and compact; then the
 * third starts with empty storage and can only catch up by receiving the snapshot. Timed from its
 * start until its state machine has restored every byte.
 */
async function measureTransfer(): Promise<{
  bytes: number;
  seconds: number;
  mibPerSecond: number;
}> {
  const ids = ['n1', 'n2', 'n3'];
  const addresses = Object.fromEntries(
    await Promise.all(ids.map(async (id) => [id, `127.0.0.1:${await freePort()}`] as const)),
  );
  const payloadBytes = snapshotMiB * 1024 * 1024;
  const start = async (id: string, machine: PayloadMachine): Promise<RaftNode<number>> => {
    const node = new RaftNode<number>({
      id,
      storage: new MemoryStorage(),
      transport: new TcpTransport({
        clusterId: 'bench-snapshots',
        discovery: new StaticDiscovery(addresses),
        listen: addresses[id]!,
      }),
      stateMachine: machine,
      initialConfiguration: ids,
      tickMs: 20,
      snapshots: { entriesMax: 1_000_000, trailingEntries: 0, chunkBytes },
    });
    await node.start();
    return node;
  };
  const running = [
    await start('n1', new PayloadMachine(payloadBytes)),
    await start('n2', new PayloadMachine(payloadBytes)),
  ];
  await waitUntil('a leader', () => running.some((node) => node.role === 'leader'), 30_000);
  const leader = running.find((node) => node.role === 'leader')!;
  await Promise.all(Array.from({ length: 100 }, () => leader.propose(new Uint8Array(100))));
  await leader.snapshot();
  const receiver = new PayloadMachine(0);
  const startedMs = performance.now();
  const late = await start('n3', receiver);
  await waitUntil('the snapshot installed', () => receiver.restoredAtMs !== null, 600_000);
  const seconds = (receiver.restoredAtMs! - startedMs) / 1000;
  await Promise.all([late, ...running].map((node) => node.stop()));
  return {
    bytes: receiver.restoredBytes,
    seconds,
    mibPerSecond: receiver.restoredBytes / 1024 / 1024 / seconds,
  };
}

function directoryBytes(directory: string): number {
  let bytes = 0;
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    const stats = statSync(path);
    bytes += stats.isDirectory() ? directoryBytes(path) : stats.size;
  }
  return bytes;
}

/** A one-voter node on FileStorage: `writes` commands, then a restart; and a fresh start beside it. */
async function measureRestart(): Promise<{
  writesPerSecond: number;
  dataDirectoryMiB: number;
  restartSeconds: number;
  freshStartSeconds: number;
  snapshotIndex: number;
  lastIndex: number;
}> {
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-bench-snapshots-'));
  try {
    const open = async (dataDirectory: string): Promise<RaftNode<number>> => {
      const port = await freePort();
      const node = new RaftNode<number>({
        id: 'n1',
        storage: new FileStorage({ directory: dataDirectory }),
        transport: new TcpTransport({
          clusterId: 'bench-restart',
          discovery: new StaticDiscovery({ n1: `127.0.0.1:${port}` }),
          listen: `127.0.0.1:${port}`,
        }),
        stateMachine: new PayloadMachine(0),
        initialConfiguration: ['n1'],
        tickMs: 20,
      });
      await node.start();
      await waitUntil('leadership', () => node.role === 'leader', 30_000);
      return node;
    };
    const data = join(directory, 'n1');
    const node = await open(data);
    const command = new Uint8Array(100);
    const writeStartMs = performance.now();
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (issued < writes) {
        issued++;
        await node.propose(command);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const writesPerSecond = Math.round(writes / ((performance.now() - writeStartMs) / 1000));
    await node.stop();
    const dataDirectoryMiB = directoryBytes(data) / 1024 / 1024;

    const restartMs = performance.now();
    const restarted = await open(data);
    const restartSeconds = (performance.now() - restartMs) / 1000;
    const { snapshotIndex, lastIndex } = restarted.status();
    await restarted.stop();

    const freshMs = performance.now();
    const fresh = await open(join(directory, 'fresh'));
    const freshStartSeconds = (performance.now() - freshMs) / 1000;
    await fresh.stop();
    return {
      writesPerSecond,
      dataDirectoryMiB,
      restartSeconds,
      freshStartSeconds,
      snapshotIndex,
      lastIndex,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const machine = describeMachine();
console.log(`machine: ${JSON.stringify(machine)}`);
const transfer = await measureTransfer();
console.log(
  `snapshot transfer over TCP: ${(transfer.bytes / 1024 / 1024).toFixed(1)} MiB in ${transfer.seconds.toFixed(2)} s = ${transfer.mibPerSecond.toFixed(1)} MiB/s`,
);
const restart = await measureRestart();
console.log(
  `${writes} writes (${inFlight} in flight) at ${restart.writesPerSecond}/s on FileStorage; data directory ${restart.dataDirectoryMiB.toFixed(1)} MiB (snapshot at ${restart.snapshotIndex}, last index ${restart.lastIndex})`,
);
console.log(
  `restart ${restart.restartSeconds.toFixed(2)} s, fresh start ${restart.freshStartSeconds.toFixed(2)} s (ratio ${(restart.restartSeconds / restart.freshStartSeconds).toFixed(2)})`,
);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/snapshots.json',
  JSON.stringify({ machine, snapshotMiB, writes, inFlight, transfer, restart }, null, 2) + '\n',
);
