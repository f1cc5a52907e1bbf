import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import { FrameDecoder } from '../../codec/frame-decoder.js';
import type { PeerAddress } from '../../discovery/discovery.js';
import type { Heartbeat } from '../../core/index.js';
import { StaticDiscovery } from '../../discovery/static-discovery.js';
import type { Message } from '../transport.js';
import { decodeHandshake, handshakeFrame, type HandshakeFrame } from './handshake.js';
import type { TcpTlsOptions, TcpTransportOptions } from './tcp-options.js';
import { TcpTransport } from './tcp-transport.js';

/** Upper bound for any wait in these tests; generous for a loaded two-core machine. */
export const waitMsMax = 10_000;

/** Polls `condition` every few milliseconds until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = waitMsMax,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a certificate or key from the test data folder. */
export function testdata(name: string): string {
  return readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
}

/** TLS options for a member whose files are `<name>-key.pem` and `<name>-cert.pem`. */
export function tlsFor(name: string, ca = 'cluster-ca-cert.pem'): TcpTlsOptions {
  return {
    key: testdata(`${name}-key.pem`),
    cert: testdata(`${name}-cert.pem`),
    ca: testdata(ca),
  };
}

export function heartbeat(from: string, to: string, commit = 0): Heartbeat {
  return { type: 'heartbeat', term: 1, from, to, commit, context: 0 };
}

/** A started transport with its inbox. */
export interface TestNode {
  readonly id: string;
  readonly transport: TcpTransport;
  readonly inbox: Message[];
}

/**
 * Starts one transport per id on 127.0.0.1 with an ephemeral port, all sharing one discovery that
 * learns each address once bound. `optionsFor` adds per-node options (secret, TLS, limits).
 */
export async function startCluster(
  ids: readonly string[],
  optionsFor: (id: string) => Partial<TcpTransportOptions> = () => ({}),
  discovery = new StaticDiscovery(),
): Promise<{ nodes: Map<string, TestNode>; discovery: StaticDiscovery }> {
  const nodes = new Map<string, TestNode>();
  for (const id of ids) {
    const node = await startNode(id, discovery, optionsFor(id));
    nodes.set(id, node);
  }
  return { nodes, discovery };
}

/** Starts one node and registers its address with `discovery`. */
export async function startNode(
  id: string,
  discovery: StaticDiscovery,
  options: Partial<TcpTransportOptions> = {},
): Promise<TestNode> {
  const transport = new TcpTransport({
    clusterId: 'test-cluster',
    listen: '127.0.0.1:0',
    discovery,
    reconnectDelayMsMin: 20,
    reconnectDelayMsMax: 200,
    ...options,
  });
  const inbox: Message[] = [];
  await transport.start(id, (message) => inbox.push(message));
  discovery.set(id, transport.address()!);
  return { id, transport, inbox };
}

/** Stops every node. */
export async function stopAll(nodes: Iterable<TestNode>): Promise<void> {
  await Promise.all([...nodes].map((node) => node.transport.stop()));
}

/** A hand-driven client, for handshakes the transport itself would never perform. */
export interface RawClient {
  readonly socket: Socket;
  readonly frames: HandshakeFrame[];
  isClosed(): boolean;
  send(frame: HandshakeFrame): boolean;
}

/**
 * What a test file starts, stopped after each of its tests: call once at the file's top level.
 * `cluster` and `rawClient` register what they start; `running` and `sockets` take what a test
 * starts by other means.
 */
export function trackedResources() {
  const running: TestNode[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await stopAll(running.splice(0));
  });
  return {
    running,
    sockets,
    cluster: async (...args: Parameters<typeof startCluster>) => {
      const started = await startCluster(...args);
      running.push(...started.nodes.values());
      return started;
    },
    rawClient: async (address: PeerAddress): Promise<RawClient> => {
      const socket = connect({ host: address.host, port: address.port });
      sockets.push(socket);
      socket.on('error', () => undefined);
      const frames: HandshakeFrame[] = [];
      let closed = false;
      const decoder = new FrameDecoder({ frameBytesMax: 4096 });
      socket.on('data', (chunk: Buffer) => {
        for (const body of decoder.push(chunk)) frames.push(decodeHandshake(body));
      });
      socket.on('close', () => (closed = true));
      await new Promise((resolve) => socket.once('connect', resolve));
      return {
        socket,
        frames,
        isClosed: () => closed,
        send: (frame: HandshakeFrame) => socket.write(handshakeFrame(frame)),
      };
    },
  };
}

/** The commit indexes of the heartbeats a node received, in order. */
export function commits(node: TestNode): number[] {
  return node.inbox.map((message) => (message as Heartbeat).commit);
}
