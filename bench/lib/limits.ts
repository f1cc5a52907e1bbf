// The machine's own limits, measured in the same run as everything else: how many
// write+fdatasync pairs the disk does per second (the floor of a durable write), and how fast two
// processes can ping-pong over loopback TCP (the floor of a replicated one).
import { spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { latencySummary } from './stats.js';

export interface Limit {
  readonly limit: string;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Bytes per synced write: about one 100-byte command with its framing. */
const recordBytes = 160;

/** Appends `recordBytes` and fdatasyncs, in a loop, for `seconds`. */
export function measureFsync(seconds: number, directory = tmpdir()): Limit {
  const scratch = mkdtempSync(join(directory, 'raftkit-bench-fsync-'));
  const descriptor = openSync(join(scratch, 'log'), 'a');
  const record = Buffer.alloc(recordBytes, 1);
  const latencies: number[] = [];
  try {
    const started = performance.now();
    const deadline = started + seconds * 1000;
    while (performance.now() < deadline) {
      const begin = performance.now();
      writeSync(descriptor, record);
      fdatasyncSync(descriptor);
      latencies.push(performance.now() - begin);
    }
    const perSecond = Math.round(latencies.length / ((performance.now() - started) / 1000));
    return { limit: 'write+fdatasync', perSecond, ...latencySummary(latencies) };
  } finally {
    closeSync(descriptor);
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** An echo server in a child process: plain JavaScript, so it starts in milliseconds. */
const echoServer = `
const server = require('node:net').createServer({ noDelay: true }, (socket) => socket.pipe(socket));
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** One 64-byte message back and forth between two processes, in a loop, for `seconds`. */
export async function measurePingPong(seconds: number): Promise<Limit> {
  const child = spawn(process.execPath, ['-e', echoServer], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      child.once('exit', () => reject(new Error('echo server exited')));
    });
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    const ping = Buffer.alloc(64, 7);
    const latencies: number[] = [];
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await new Promise<void>((resolve) => {
      let received = 0;
      let sentAt = performance.now();
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received < ping.length) return;
        received -= ping.length;
        const now = performance.now();
        latencies.push(now - sentAt);
        if (now >= deadline) return resolve();
        sentAt = now;
        socket.write(ping);
      });
      socket.write(ping);
    });
    socket.destroy();
    const perSecond = Math.round(latencies.length / ((performance.now() - started) / 1000));
    return { limit: 'TCP ping-pong (round trips)', perSecond, ...latencySummary(latencies) };
  } finally {
    child.stdin.end();
    child.kill('SIGKILL');
  }
}
