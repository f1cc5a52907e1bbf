// Transport throughput between two processes on loopback, next to raw TCP measured in the same run.
//
//   node --conditions=raftkit-source --import tsx bench/transport.ts [secondsPerScenario]
//
// The parent forks a child; both run a TcpTransport ('a' here, 'b' there). Streams are windowed
// like Raft's inflight limit: the child acknowledges every `ackEvery` messages and the parent keeps
// at most `window` unacknowledged, so the numbers are sustainable rates, not queue overflow.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { encodeFrame } from 'raftkit/codec';
import type { AppendEntries, Entry, Heartbeat } from 'raftkit/core';
import { StaticDiscovery } from 'raftkit/discovery';
import { TcpTransport } from 'raftkit/transport/tcp';

const secondsPerScenario = Number(process.argv[3] ?? process.argv[2] ?? 3);
const appendEntryCount = 64;
const appendEntryBytes = 256;
const pingBytes = 64;
// Raw streams write this much per call: the ceiling a transport could reach on this machine.
const rawChunkBytes = 64 * 1024;
const smallWindow = { window: 4096, ackEvery: 256 };
const appendWindow = { window: 128, ackEvery: 16 };

type Control =
  | { readonly kind: 'raw-echo' }
  | { readonly kind: 'raw-sink' }
  | { readonly kind: 'transport'; readonly ackEvery: number }
  | { readonly kind: 'peer'; readonly port: number }
  | { readonly kind: 'stop' };

type Reply =
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'sunk'; readonly bytes: number }
  | { readonly kind: 'stopped' };

function heartbeat(from: string, to: string, context: number): Heartbeat {
  return { type: 'heartbeat', term: 1, from, to, commit: 0, context };
}

function append(): AppendEntries {
  const entries: Entry[] = Array.from({ length: appendEntryCount }, (_, offset) => ({
    kind: 'command',
    index: offset + 1,
    term: 1,
    data: new Uint8Array(appendEntryBytes).fill(offset),
  }));
  return {
    type: 'append-entries',
    term: 1,
    from: 'a',
    to: 'b',
    prevLogIndex: 0,
    prevLogTerm: 0,
    commit: 0,
    entries,
  };
}

// ---------------------------------------------------------------------------------------- child

function runChild(): void {
  let transport: TcpTransport | null = null;
  let discovery: StaticDiscovery | null = null;
  let server: ReturnType<typeof createServer> | null = null;
  const reply = (message: Reply) => process.send!(message);
  process.on('message', (control: Control) => {
    if (control.kind === 'raw-echo' || control.kind === 'raw-sink') {
      server?.close();
      server = createServer({ noDelay: true }, (socket) => {
        let bytes = 0;
        socket.on('data', (chunk) => {
          if (control.kind === 'raw-echo') socket.write(chunk);
          else bytes += chunk.length;
        });
        socket.on('end', () => {
          socket.end();
          if (control.kind === 'raw-sink') reply({ kind: 'sunk', bytes });
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const address = server!.address();
        reply({ kind: 'port', port: typeof address === 'object' && address ? address.port : 0 });
      });
    } else if (control.kind === 'transport') {
      discovery = new StaticDiscovery();
      transport = new TcpTransport({ clusterId: 'bench', listen: '127.0.0.1:0', discovery });
      let count = 0;
      const self = transport;
      void self
        .start('b', (message) => {
          count++;
          // context 1 on a heartbeat asks for an immediate answer: the ping-pong scenario.
          if (message.type === 'heartbeat' && message.context === 1) {
            self.send({ type: 'heartbeat-response', term: 1, from: 'b', to: 'a', context: 1 });
          } else if (count % control.ackEvery === 0) {
            self.send({ type: 'heartbeat-response', term: 1, from: 'b', to: 'a', context: count });
          }
        })
        .then(() => reply({ kind: 'port', port: self.address()!.port }));
    } else if (control.kind === 'peer') {
      discovery?.set('a', { host: '127.0.0.1', port: control.port });
    } else {
      void Promise.resolve(transport?.stop()).then(() => {
        server?.close();
        reply({ kind: 'stopped' });
        process.disconnect();
      });
    }
  });
}

// --------------------------------------------------------------------------------------- parent

interface Result {
  readonly scenario: string;
  readonly messagesPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly messageBytes: number;
  readonly seconds: number;
}

function result(scenario: string, messages: number, messageBytes: number, seconds: number): Result {
  return {
    scenario,
    messagesPerSecond: Math.round(messages / seconds),
    megabytesPerSecond: Number(((messages * messageBytes) / seconds / 1e6).toFixed(1)),
    messageBytes,
    seconds: Number(seconds.toFixed(2)),
  };
}

class Child {
  readonly #process = fork(fileURLToPath(import.meta.url), ['child'], {
    execArgv: process.execArgv,
  });
  readonly #waiting: ((reply: Reply) => void)[] = [];

  constructor() {
    this.#process.on('message', (reply: Reply) => this.#waiting.shift()?.(reply));
  }

  request(control: Control): Promise<Reply> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#process.send(control);
    });
  }

  tell(control: Control): void {
    this.#process.send(control);
  }

  expectReply(): Promise<Reply> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

async function rawPingPong(child: Child): Promise<Result> {
  const reply = await child.request({ kind: 'raw-echo' });
  if (reply.kind !== 'port') throw new Error('expected a port');
  const socket = await openSocket(reply.port);
  const ping = new Uint8Array(pingBytes);
  const started = performance.now();
  const deadline = started + secondsPerScenario * 1000;
  let roundTrips = 0;
  await new Promise<void>((resolve) => {
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (received < pingBytes) return;
      received -= pingBytes;
      roundTrips++;
      if (performance.now() < deadline) socket.write(ping);
      else resolve();
    });
    socket.write(ping);
  });
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return result('raw TCP ping-pong (round trips)', roundTrips, pingBytes, seconds);
}

async function rawStream(child: Child, frameBytes: number, label: string): Promise<Result> {
  const reply = await child.request({ kind: 'raw-sink' });
  if (reply.kind !== 'port') throw new Error('expected a port');
  const socket = await openSocket(reply.port);
  const chunk = new Uint8Array(Math.floor(rawChunkBytes / frameBytes) * frameBytes);
  const sunk = child.expectReply();
  const started = performance.now();
  const deadline = started + secondsPerScenario * 1000;
  while (performance.now() < deadline) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
  const done = await sunk;
  if (done.kind !== 'sunk') throw new Error('expected a byte count');
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return result(label, done.bytes / frameBytes, frameBytes, seconds);
}

type Scenario = 'heartbeats' | 'appends' | 'ping-pong';

const scenarioLabels: Record<Scenario, string> = {
  heartbeats: 'TcpTransport heartbeats',
  appends: `TcpTransport ${appendEntryCount}-entry appends`,
  'ping-pong': 'TcpTransport ping-pong (round trips)',
};

// Each scenario runs against a fresh child process, so none inherits another's warm state.
async function transportScenario(scenario: Scenario): Promise<Result> {
  const child = new Child();
  const { window, ackEvery } = scenario === 'appends' ? appendWindow : smallWindow;
  const reply = await child.request({ kind: 'transport', ackEvery });
  if (reply.kind !== 'port') throw new Error('expected a port');
  const discovery = new StaticDiscovery({ b: { host: '127.0.0.1', port: reply.port } });
  let acknowledged = 0;
  let answers = 0;
  let wake: (() => void) | null = null;
  const transport = new TcpTransport({ clusterId: 'bench', listen: '127.0.0.1:0', discovery });
  await transport.start('a', (message) => {
    if (message.type !== 'heartbeat-response') return;
    if (message.context === 1 && scenario === 'ping-pong') answers++;
    else acknowledged = Math.max(acknowledged, message.context);
    wake?.();
  });
  child.tell({ kind: 'peer', port: transport.address()!.port });
  const message = scenario === 'appends' ? append() : heartbeat('a', 'b', 0);
  const messageBytes = encodeFrame(message).length;
  const waitForAnswer = () => new Promise<void>((resolve) => (wake = resolve));
  const started = performance.now();
  const deadline = started + secondsPerScenario * 1000;
  let sent = 0;
  if (scenario === 'ping-pong') {
    while (performance.now() < deadline) {
      transport.send(heartbeat('a', 'b', 1));
      const before = answers;
      while (answers === before) await waitForAnswer();
      sent++;
    }
  } else {
    while (performance.now() < deadline) {
      while (sent - acknowledged < window) {
        transport.send(message);
        sent++;
      }
      await waitForAnswer();
    }
    // Count only what the child confirmed receiving.
    const target = sent - (sent % ackEvery);
    while (acknowledged < target) await waitForAnswer();
    sent = target;
  }
  const seconds = (performance.now() - started) / 1000;
  const dropped = transport.stats().dropped.queueOverflow;
  await transport.stop();
  await child.request({ kind: 'stop' });
  if (dropped > 0) throw new Error(`${scenario}: ${dropped} messages overflowed the queue`);
  return result(scenarioLabels[scenario], sent, messageBytes, seconds);
}

async function runParent(): Promise<void> {
  console.log(`transport benchmark: ${secondsPerScenario} s per scenario, ${cpus().length} CPUs`);
  const heartbeatBytes = encodeFrame(heartbeat('a', 'b', 0)).length;
  const appendBytes = encodeFrame(append()).length;
  const results: Result[] = [];
  const raw = new Child();
  results.push(await rawPingPong(raw));
  results.push(await rawStream(raw, heartbeatBytes, `raw TCP stream, ${heartbeatBytes} B frames`));
  results.push(await rawStream(raw, appendBytes, `raw TCP stream, ${appendBytes} B frames`));
  await raw.request({ kind: 'stop' });
  for (const scenario of ['heartbeats', 'appends', 'ping-pong'] as const) {
    results.push(await transportScenario(scenario));
  }
  console.table(results);
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/transport-${new Date().toISOString().replaceAll(':', '-')}.json`;
  const environment = { node: process.version, cpus: cpus().length, secondsPerScenario };
  writeFileSync(file, JSON.stringify({ environment, results }, null, 2));
  console.log(`wrote ${file}`);
}

if (process.argv[2] === 'child') runChild();
else await runParent();
