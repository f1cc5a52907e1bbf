// The etcd peer: a 3-member etcd cluster on loopback, each member with its own data directory
// (etcd fsyncs its WAL before acknowledging, like FileStorage), driven by a lean load generator:
// one keep-alive TCP connection per client speaking HTTP/1.1 to the gRPC gateway's /v3/kv/put
// with pre-encoded requests, one request in flight per connection — the shape redis-benchmark
// gives the raftkit side. etcd 3.4 as Debian ships it has no `benchmark` tool.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePortLayout } from '../../apps/cli/index.js';
import type { DurableRow } from './durable.js';
import { latencySummary, sleep } from './stats.js';

/** Distinct keys the generator writes, as redis-benchmark's `-r 100000`. */
const keySpace = 100_000;
/** Pre-encoded requests cycled through by every connection. */
const preparedRequests = 1024;

/** A running 3-member etcd; `close` stops it and removes its data. */
export class EtcdCluster {
  readonly clientAddresses: readonly string[];
  readonly #children: ChildProcess[];
  readonly #directory: string;

  private constructor(addresses: string[], children: ChildProcess[], directory: string) {
    this.clientAddresses = addresses;
    this.#children = children;
    this.#directory = directory;
  }

  static async start(): Promise<EtcdCluster> {
    const directory = mkdtempSync(join(tmpdir(), 'raftkit-bench-etcd-'));
    const layout = await freePortLayout(3);
    const members = layout.members.map((member, position) => ({
      name: `e${position + 1}`,
      client: member.client,
      peer: member.raft,
    }));
    const initialCluster = members
      .map((member) => `${member.name}=http://${member.peer}`)
      .join(',');
    const children = members.map((member) =>
      spawn(
        'etcd',
        [
          ...['--name', member.name, '--data-dir', join(directory, member.name)],
          ...['--listen-client-urls', `http://${member.client}`],
          ...['--advertise-client-urls', `http://${member.client}`],
          ...['--listen-peer-urls', `http://${member.peer}`],
          ...['--initial-advertise-peer-urls', `http://${member.peer}`],
          ...['--initial-cluster', initialCluster, '--initial-cluster-state', 'new'],
          ...['--initial-cluster-token', 'raftkit-bench', '--log-level', 'error'],
        ],
        { stdio: 'ignore' },
      ),
    );
    const started = new EtcdCluster(
      members.map((member) => member.client),
      children,
      directory,
    );
    try {
      await started.leader();
    } catch (error) {
      await started.close();
      throw error;
    }
    return started;
  }

  /** The client address of the leader, once one is elected (bounded: about 30 s). */
  async leader(): Promise<string> {
    for (let attempt = 0; attempt < 300; attempt++) {
      for (const address of this.clientAddresses) {
        const status = await fetch(`http://${address}/v3/maintenance/status`, {
          method: 'POST',
          body: '{}',
          signal: AbortSignal.timeout(1000),
        })
          .then(
            (response) =>
              response.json() as Promise<{ header?: { member_id?: string }; leader?: string }>,
          )
          .catch(() => null);
        if (status?.leader !== undefined && status.leader === status.header?.member_id) {
          return address;
        }
      }
      await sleep(100);
    }
    throw new Error('etcd elected no leader');
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.#directory, { recursive: true, force: true });
  }
}

function putRequests(address: string, valueBytes: number): Buffer[] {
  const value = Buffer.alloc(valueBytes, 'v').toString('base64');
  return Array.from({ length: preparedRequests }, () => {
    const key = Buffer.from(`key:${Math.floor(Math.random() * keySpace)}`).toString('base64');
    const body = `{"key":"${key}","value":"${value}"}`;
    return Buffer.from(
      `POST /v3/kv/put HTTP/1.1\r\nHost: ${address}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
}

/** Reads one HTTP/1.1 response after another from a socket, by Content-Length. */
class ResponseReader {
  #buffer: Buffer = Buffer.alloc(0);

  /** Appends `chunk`; returns how many complete responses it finished (and their statuses). */
  push(chunk: Buffer, onResponse: (status: number) => void): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const headerEnd = this.#buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = this.#buffer.subarray(0, headerEnd).toString('latin1');
      const match = /content-length:\s*(\d+)/i.exec(head);
      if (match === null) throw new Error(`etcd answered without Content-Length: ${head}`);
      const end = headerEnd + 4 + Number(match[1]);
      if (this.#buffer.length < end) return;
      onResponse(Number(head.slice(9, 12)));
      this.#buffer = this.#buffer.subarray(end);
    }
  }
}

/** Puts of `valueBytes` at `clients` connections against `address`, `requests` in all. */
export async function measureEtcd(options: {
  readonly address: string;
  readonly clients: number;
  readonly requests: number;
  readonly valueBytes: number;
}): Promise<DurableRow> {
  const prepared = putRequests(options.address, options.valueBytes);
  const [host, port] = options.address.split(':') as [string, string];
  const latencies: number[] = [];
  let issued = 0;
  const client = (slot: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket: Socket = connect({ host, port: Number(port), noDelay: true });
      const reader = new ResponseReader();
      let sentAt = 0;
      const next = (): void => {
        if (issued >= options.requests) {
          socket.end();
          resolve();
          return;
        }
        issued++;
        sentAt = performance.now();
        socket.write(prepared[(issued + slot) % prepared.length]!);
      };
      socket.on('connect', next);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        try {
          reader.push(chunk, (status) => {
            if (status !== 200) throw new Error(`etcd answered HTTP ${status}`);
            latencies.push(performance.now() - sentAt);
            next();
          });
        } catch (error) {
          socket.destroy();
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  const started = performance.now();
  await Promise.all(Array.from({ length: options.clients }, (_, slot) => client(slot)));
  const seconds = (performance.now() - started) / 1000;
  return {
    target: 'etcd',
    clients: options.clients,
    opsPerSecond: Math.round(latencies.length / seconds),
    ...latencySummary(latencies),
    entriesPerFsync: null,
  };
}
