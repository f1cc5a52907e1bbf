import { afterEach, describe, expect, it } from 'vitest';
import { localLayout } from '../kv/cluster-layout.js';
import { ProxyNetwork } from './proxy-network.js';

let network: ProxyNetwork | null = null;

async function started(): Promise<ProxyNetwork> {
  // Nothing listens on the targets: these tests only look at which links are cut.
  network = new ProxyNetwork(localLayout({ nodes: 5, basePort: 40_000 }));
  await network.start();
  return network;
}

afterEach(async () => {
  await network?.stop();
  network = null;
});

describe('ProxyNetwork', () => {
  it("gives each server a layout with its own Raft address and a proxy for every peer's", async () => {
    const proxies = await started();
    const view = proxies.layoutFor('n2');
    expect(view.members.find((member) => member.id === 'n2')!.raft).toBe('127.0.0.1:40101');
    const peers = view.members.filter((member) => member.id !== 'n2');
    expect(new Set(peers.map((member) => member.raft)).size).toBe(4);
    for (const peer of peers)
      expect(peer.raft).not.toBe(`127.0.0.1:${40_100 + Number(peer.id.slice(1)) - 1}`);
    // Client addresses stay real: clients reach every server whatever the network does.
    expect(peers.map((member) => member.client)).toEqual([
      '127.0.0.1:40000',
      '127.0.0.1:40002',
      '127.0.0.1:40003',
      '127.0.0.1:40004',
    ]);
  });

  it('cuts exactly the links between groups, both ways, and heals them all', async () => {
    const proxies = await started();
    proxies.partition([['n1'], ['n2', 'n3', 'n4', 'n5']]);
    expect(proxies.cutLinks().sort()).toEqual(
      ['n1->n2', 'n1->n3', 'n1->n4', 'n1->n5', 'n2->n1', 'n3->n1', 'n4->n1', 'n5->n1'].sort(),
    );
    proxies.heal();
    expect(proxies.cutLinks()).toEqual([]);
  });

  it('builds a bridge: two sides apart, one server linked to both', async () => {
    const proxies = await started();
    proxies.cutBetween(['n1', 'n2'], ['n4', 'n5']);
    const cut = proxies.cutLinks();
    expect(cut).toHaveLength(8);
    expect(cut.some((link) => link.includes('n3'))).toBe(false);
  });
});
