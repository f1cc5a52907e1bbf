import { describe, expect, it } from 'vitest';
import { RaftError } from '../../core/index.js';
import type { Heartbeat } from '../../core/index.js';
import { SimulatedClock } from '../../node/simulated-clock.js';
import type { Message } from '../transport.js';
import { InProcessNetwork, type InProcessNetworkOptions, type NetworkEvent } from './index.js';
import { seededRandom } from '../../core/index.js';

function heartbeat(from: string, to: string, commit = 0): Heartbeat {
  return { type: 'heartbeat', term: 1, from, to, commit, context: 0 };
}

interface Harness {
  readonly clock: SimulatedClock;
  readonly network: InProcessNetwork;
  readonly received: Map<string, Message[]>;
  readonly send: (message: Message) => void;
}

async function harness(
  ids: readonly string[],
  options: Omit<InProcessNetworkOptions, 'clock'> = {},
): Promise<Harness> {
  const clock = new SimulatedClock();
  const network = new InProcessNetwork({ clock, random: seededRandom(42), ...options });
  const received = new Map<string, Message[]>();
  const transports = new Map<string, ReturnType<InProcessNetwork['transport']>>();
  for (const id of ids) {
    const inbox: Message[] = [];
    received.set(id, inbox);
    const transport = network.transport();
    await transport.start(id, (message) => inbox.push(message));
    transports.set(id, transport);
  }
  return {
    clock,
    network,
    received,
    send: (message) => transports.get(message.from)!.send(message),
  };
}

function commits(messages: readonly Message[] | undefined): number[] {
  return (messages ?? []).map((message) => (message as Heartbeat).commit);
}

describe('InProcessNetwork', () => {
  it('delivers asynchronously through the clock, never inside send', async () => {
    const { clock, received, send } = await harness(['a', 'b']);
    send(heartbeat('a', 'b'));
    expect(received.get('b')).toEqual([]);
    clock.advance(0);
    expect(received.get('b')).toEqual([heartbeat('a', 'b')]);
  });

  it('delivers the messages due at once from one timer, in the order they were sent', async () => {
    const clock = new SimulatedClock();
    const network = new InProcessNetwork({ clock });
    const arrivals: string[] = [];
    const transports = new Map<string, ReturnType<InProcessNetwork['transport']>>();
    for (const id of ['a', 'b', 'c']) {
      const transport = network.transport();
      await transport.start(id, (message) => {
        arrivals.push(`${message.from}>${message.to}:${(message as Heartbeat).commit}`);
        // A message sent while a batch is delivered waits for the next one.
        if (id === 'c') transports.get('c')!.send(heartbeat('c', 'a', 9));
      });
      transports.set(id, transport);
    }
    transports.get('a')!.send(heartbeat('a', 'b', 1));
    transports.get('b')!.send(heartbeat('b', 'c', 2));
    transports.get('a')!.send(heartbeat('a', 'c', 3));
    expect(clock.pendingCount).toBe(1);
    clock.advance(0);
    expect(arrivals).toEqual(['a>b:1', 'b>c:2', 'a>c:3', 'c>a:9', 'c>a:9']);
    expect(clock.pendingCount).toBe(0);
  });

  it('cancels the timer of a batch whose every message was dropped', async () => {
    const { clock, network, send } = await harness(['a', 'c']);
    const b = network.transport();
    await b.start('b', () => undefined);
    send(heartbeat('a', 'b'));
    send(heartbeat('c', 'b'));
    expect(clock.pendingCount).toBe(1);
    await b.stop();
    expect(clock.pendingCount).toBe(0);
    expect(network.stats().dropped.unreachable).toBe(2);
  });

  it('uses the real clock by default', async () => {
    const network = new InProcessNetwork();
    const a = network.transport();
    const b = network.transport();
    const arrived = new Promise<Message>((resolve) => void b.start('b', resolve));
    await a.start('a', () => undefined);
    a.send(heartbeat('a', 'b', 7));
    expect(await arrived).toEqual(heartbeat('a', 'b', 7));
    await Promise.all([a.stop(), b.stop()]);
  });

  it('keeps each link in order under random delays', async () => {
    const { clock, received, send } = await harness(['a', 'b'], {
      faults: { delayMsMin: 0, delayMsMax: 50 },
    });
    for (let commit = 0; commit < 200; commit++) send(heartbeat('a', 'b', commit));
    clock.advance(100);
    expect(commits(received.get('b'))).toEqual([...Array(200).keys()]);
  });

  it('reorders some messages when asked, losing none', async () => {
    const { clock, network, received, send } = await harness(['a', 'b'], {
      faults: { reorderRate: 0.3, reorderDelayMsMax: 20 },
    });
    for (let commit = 0; commit < 200; commit++) {
      send(heartbeat('a', 'b', commit));
      clock.advance(1);
    }
    clock.advance(50);
    const order = commits(received.get('b'));
    expect([...order].sort((x, y) => x - y)).toEqual([...Array(200).keys()]);
    expect(order).not.toEqual([...Array(200).keys()]);
    expect(network.stats().delivered).toBe(200);
  });

  it('drops about the configured share of messages and counts each one', async () => {
    const { clock, network, received, send } = await harness(['a', 'b'], {
      faults: { dropRate: 0.3 },
    });
    for (let commit = 0; commit < 1000; commit++) send(heartbeat('a', 'b', commit));
    clock.advance(1);
    const stats = network.stats();
    expect(stats.sent).toBe(1000);
    expect(stats.delivered + stats.dropped.random).toBe(1000);
    expect(stats.dropped.random).toBeGreaterThan(200);
    expect(stats.dropped.random).toBeLessThan(400);
    expect(received.get('b')).toHaveLength(stats.delivered);
  });

  it('duplicates messages when asked', async () => {
    const { clock, network, received, send } = await harness(['a', 'b'], {
      faults: { duplicateRate: 1 },
    });
    send(heartbeat('a', 'b', 1));
    send(heartbeat('a', 'b', 2));
    clock.advance(1);
    expect(commits(received.get('b')).sort()).toEqual([1, 1, 2, 2]);
    expect(network.stats()).toMatchObject({ sent: 2, delivered: 4, duplicated: 2 });
  });

  it('partitions groups both ways and heals', async () => {
    const { clock, network, received, send } = await harness(['a', 'b', 'c']);
    network.partition(['a'], ['b', 'c']);
    send(heartbeat('a', 'b'));
    send(heartbeat('c', 'a'));
    send(heartbeat('b', 'c', 5));
    clock.advance(1);
    expect(received.get('a')).toEqual([]);
    expect(received.get('b')).toEqual([]);
    expect(commits(received.get('c'))).toEqual([5]);
    expect(network.stats().dropped.partitioned).toBe(2);
    network.heal();
    send(heartbeat('a', 'b', 6));
    clock.advance(1);
    expect(commits(received.get('b'))).toEqual([6]);
  });

  it('blocks one direction only', async () => {
    const { clock, network, received, send } = await harness(['a', 'b']);
    network.block('a', 'b');
    send(heartbeat('a', 'b'));
    send(heartbeat('b', 'a'));
    clock.advance(1);
    expect(received.get('b')).toEqual([]);
    expect(received.get('a')).toHaveLength(1);
    expect(network.stats().dropped.blocked).toBe(1);
    network.unblock('a', 'b');
    send(heartbeat('a', 'b'));
    clock.advance(1);
    expect(received.get('b')).toHaveLength(1);
  });

  it('loses messages in flight across a new cut', async () => {
    const { clock, network, received, send } = await harness(['a', 'b'], {
      faults: { delayMsMin: 10, delayMsMax: 10 },
    });
    send(heartbeat('a', 'b'));
    clock.advance(5);
    network.partition(['a'], ['b']);
    clock.advance(10);
    expect(received.get('b')).toEqual([]);
    expect(network.stats()).toMatchObject({ inFlight: 0, dropped: { partitioned: 1 } });
  });

  it('lets an interceptor drop or rewrite messages', async () => {
    const { clock, network, received, send } = await harness(['a', 'b']);
    network.setInterceptor((message) => {
      const commit = (message as Heartbeat).commit;
      if (commit === 1) return null;
      return commit === 2 ? { ...message, commit: 20 } : message;
    });
    send(heartbeat('a', 'b', 1));
    send(heartbeat('a', 'b', 2));
    send(heartbeat('a', 'b', 3));
    clock.advance(1);
    expect(commits(received.get('b'))).toEqual([20, 3]);
    expect(network.stats().dropped.filtered).toBe(1);
    network.setInterceptor(null);
    send(heartbeat('a', 'b', 1));
    clock.advance(1);
    expect(commits(received.get('b'))).toEqual([20, 3, 1]);
  });

  it('bounds the messages in flight to one node, dropping and counting the overflow', async () => {
    const { clock, network, received, send } = await harness(['a', 'b', 'c'], {
      queueMessagesMax: 5,
      faults: { delayMsMin: 10, delayMsMax: 10 },
    });
    for (let commit = 0; commit < 4; commit++) send(heartbeat('a', 'b', commit));
    for (let commit = 4; commit < 8; commit++) send(heartbeat('c', 'b', commit));
    expect(network.stats()).toMatchObject({ inFlight: 5, dropped: { 'queue-full': 3 } });
    clock.advance(10);
    expect(commits(received.get('b'))).toEqual([0, 1, 2, 3, 4]);
    send(heartbeat('a', 'b', 9));
    clock.advance(10);
    expect(commits(received.get('b'))).toEqual([0, 1, 2, 3, 4, 9]);
  });

  it('never throws from send: unknown, stopped and impersonating senders are counted', async () => {
    const { clock, network } = await harness(['a']);
    const transport = network.transport();
    expect(() => transport.send(heartbeat('x', 'a'))).not.toThrow();
    await transport.start('z', () => undefined);
    transport.send(heartbeat('z', 'nobody'));
    transport.send(heartbeat('a', 'z'));
    await transport.stop();
    await transport.stop();
    transport.send(heartbeat('z', 'a'));
    clock.advance(1);
    expect(network.stats().dropped).toMatchObject({ stopped: 2, unreachable: 1, invalid: 1 });
  });

  it('drops messages in flight to a server that stops, and lets it start again', async () => {
    const { clock, network, send } = await harness(['a']);
    const received: Message[] = [];
    const b = network.transport();
    await b.start('b', (message) => received.push(message));
    await expect(network.transport().start('b', () => undefined)).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
    await expect(b.start('b', () => undefined)).rejects.toBeInstanceOf(RaftError);
    send(heartbeat('a', 'b'));
    await b.stop();
    expect(network.nodes()).toEqual(['a']);
    expect(clock.pendingCount).toBe(0);
    await b.start('b', (message) => received.push(message));
    send(heartbeat('a', 'b', 3));
    clock.advance(1);
    expect(commits(received)).toEqual([3]);
    expect(network.stats().dropped.unreachable).toBe(1);
  });

  it('replays exactly from the same seed', async () => {
    async function run(seed: number): Promise<NetworkEvent[]> {
      const events: NetworkEvent[] = [];
      const { clock, send } = await harness(['a', 'b', 'c'], {
        random: seededRandom(seed),
        onEvent: (event) => events.push(event),
        faults: {
          dropRate: 0.1,
          duplicateRate: 0.1,
          delayMsMin: 1,
          delayMsMax: 30,
          reorderRate: 0.2,
        },
      });
      for (let commit = 0; commit < 300; commit++) {
        send(heartbeat(['a', 'b', 'c'][commit % 3]!, ['b', 'c', 'a'][commit % 3]!, commit));
        clock.advance(commit % 4);
      }
      clock.advance(100);
      return events;
    }
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
    const kinds = new Set(first.map((event) => event.kind));
    expect(kinds).toEqual(new Set(['send', 'deliver', 'drop']));
  });

  it('rejects impossible fault settings', () => {
    expect(() => new InProcessNetwork({ faults: { dropRate: 2 } })).toThrow(RaftError);
    expect(() => new InProcessNetwork({ faults: { delayMsMin: 5, delayMsMax: 1 } })).toThrow(
      RaftError,
    );
    expect(() => new InProcessNetwork({ queueMessagesMax: 0 })).toThrow(RaftError);
    const network = new InProcessNetwork();
    expect(() => network.setFaults({ reorderRate: Number.NaN })).toThrow(RaftError);
    network.setFaults({ dropRate: 0.5 });
    expect(network.faults.dropRate).toBe(0.5);
  });
});
