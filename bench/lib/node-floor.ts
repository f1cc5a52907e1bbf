// The floor of a replicated write in Node on this machine: three plain-JavaScript processes doing
// only what any replicated write must (the leader forwards the client's bytes to two followers,
// each of the three appends them to a file opened with O_DSYNC through libuv's pool, and the
// leader answers once its own append and one follower's are done), with none of Raft. Driven by
// redis-benchmark with one client, like the durable rows, so the 1-client p50 of raftkit reads as
// a ratio to what Node itself allows here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Limit } from './limits.js';
import { redisBenchmark } from './kv-tools.js';

/**
 * One process of the floor. Arguments: role (`leader` or `follower`), a directory for its file,
 * and for the leader the followers' ports. Prints its port once listening. The leader's framing
 * to the followers is a 4-byte length; a follower acknowledges each frame with one byte, in order,
 * so the leader matches acknowledgements to requests by counting. Plain JavaScript, so it starts
 * in milliseconds.
 */
const floorProcess = `
const net = require('node:net'), fs = require('node:fs'), path = require('node:path');
const [role, dir, ...peerPorts] = process.argv.slice(1);
const { O_WRONLY, O_CREAT, O_DSYNC } = fs.constants;
const fd = fs.openSync(path.join(dir, role + process.pid), O_WRONLY | O_CREAT | O_DSYNC);
let position = 0;
function append(bytes, done) {
  const at = position;
  position += bytes.length;
  fs.write(fd, bytes, 0, bytes.length, at, done);
}
// Calls onFrame with each complete frame of a byte stream; lengthOf gives a frame's length once
// its header is in, or -1 before.
function frames(lengthOf, onFrame) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const length = lengthOf(pending);
      if (length < 0 || pending.length < length) return;
      onFrame(pending.subarray(0, length));
      pending = pending.subarray(length);
    }
  };
}
// A RESP array of bulk strings (a redis-benchmark request): its length once complete, else -1.
function respLength(b) {
  let at = b.indexOf(13);
  if (b[0] !== 42 || at < 0) return -1;
  let count = Number(b.toString('latin1', 1, at));
  at += 2;
  for (; count > 0; count--) {
    const end = b.indexOf(13, at);
    if (end < 0) return -1;
    at = end + 2 + Number(b.toString('latin1', at + 1, end)) + 2;
    if (at > b.length) return -1;
  }
  return at;
}
const lengthPrefixed = (b) => (b.length < 4 ? -1 : 4 + b.readUInt32LE(0));
// redis-benchmark drops the connection it asks CONFIG on; a reset must not end the process.
function serve(onSocket) {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
}
if (role === 'follower') {
  serve((socket) =>
    socket.on('data', frames(lengthPrefixed, (frame) => append(frame, () => socket.write('a')))),
  );
} else {
  const links = peerPorts.map((port) =>
    net.connect({ host: '127.0.0.1', port: Number(port), noDelay: true }),
  );
  const acks = links.map(() => 0);
  const waiting = [];
  let started = 0;
  // Requests are answered in order, each once it is saved here and on one follower.
  function settle() {
    const acknowledged = Math.max(...acks);
    while (waiting.length > 0 && waiting[0].saved && acknowledged > waiting[0].sequence) {
      const request = waiting.shift();
      if (!request.socket.destroyed) request.socket.write('+OK\\r\\n');
    }
  }
  links.forEach((link, i) => link.on('data', (chunk) => { acks[i] += chunk.length; settle(); }));
  serve((socket) =>
    socket.on('data', frames(respLength, (request) => {
      const header = Buffer.alloc(4);
      header.writeUInt32LE(request.length, 0);
      for (const link of links) link.write(Buffer.concat([header, request]));
      const entry = { socket, sequence: started++, saved: false };
      waiting.push(entry);
      append(request, () => { entry.saved = true; settle(); });
    })),
  );
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

async function startFloorProcess(
  directory: string,
  role: 'leader' | 'follower',
  peerPorts: readonly number[] = [],
): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['-e', floorProcess, role, directory, ...peerPorts.map(String)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', () => reject(new Error(`floor ${role} exited before listening`)));
  });
  return { port, child };
}

/**
 * 1-client SETs of `valueBytes` against the floor's leader: `requests` of them after a warm-up.
 * Needs redis-benchmark (the caller checks it is installed).
 */
export async function measureReplicatedFloor(requests: number, valueBytes: number): Promise<Limit> {
  const directory = mkdtempSync(join(tmpdir(), 'raftkit-bench-floor-'));
  const children: ChildProcess[] = [];
  try {
    const followers = [];
    for (let i = 0; i < 2; i++) followers.push(await startFloorProcess(directory, 'follower'));
    children.push(...followers.map((follower) => follower.child));
    const leader = await startFloorProcess(
      directory,
      'leader',
      followers.map((follower) => follower.port),
    );
    children.push(leader.child);
    const options = { address: `127.0.0.1:${leader.port}`, pipeline: 1, clients: 1, valueBytes };
    await redisBenchmark({ ...options, requests: Math.ceil(requests / 4) }, ['-t', 'set']);
    const [row] = await redisBenchmark({ ...options, requests }, ['-t', 'set']);
    if (row === undefined) throw new Error('redis-benchmark printed no result');
    return {
      limit: 'replicated write in plain Node, 1 client',
      perSecond: row.requestsPerSecond,
      p50Ms: row.p50Ms,
      p99Ms: row.p99Ms,
    };
  } finally {
    for (const child of children) {
      child.stdin?.end();
      child.kill('SIGKILL');
    }
    rmSync(directory, { recursive: true, force: true });
  }
}
