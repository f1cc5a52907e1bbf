import type { ClusterLayout } from '../kv/cluster-layout.js';
import { LinkProxy } from './link-proxy.js';

/**
 * The Raft network of a local cluster as one {@link LinkProxy} per directed pair of servers. Each
 * server gets its own layout, in which every peer's Raft address is the proxy of the link from this
 * server to that peer; its own Raft address stays real, since it listens there. Clients talk to the
 * servers directly, so a server cut off from its peers still hears from its clients.
 */
export class ProxyNetwork {
  readonly #layout: ClusterLayout;
  readonly #links = new Map<string, LinkProxy>();

  constructor(layout: ClusterLayout) {
    this.#layout = layout;
    for (const from of layout.members) {
      for (const to of layout.members) {
        if (from.id === to.id) continue;
        const link = new LinkProxy({ from: from.id, to: to.id, target: to.raft });
        this.#links.set(linkKey(from.id, to.id), link);
      }
    }
  }

  async start(): Promise<void> {
    await Promise.all([...this.#links.values()].map((link) => link.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#links.values()].map((link) => link.stop()));
  }

  /** The layout `id` starts with: peers' Raft addresses replaced by this server's proxies. */
  layoutFor(id: string): ClusterLayout {
    return {
      clusterId: this.#layout.clusterId,
      members: this.#layout.members.map((member) =>
        member.id === id ? member : { ...member, raft: this.#link(id, member.id).address },
      ),
    };
  }

  /**
   * Splits the servers into `groups`: links inside a group work, links between groups are cut.
   * Servers in no group are cut off from everyone.
   */
  partition(groups: readonly (readonly string[])[]): void {
    const groupOf = new Map<string, number>();
    groups.forEach((group, index) => group.forEach((id) => groupOf.set(id, index)));
    for (const link of this.#links.values()) {
      const fromGroup = groupOf.get(link.from);
      link.setCut(fromGroup === undefined || fromGroup !== groupOf.get(link.to));
    }
  }

  /**
   * Cuts the links between `left` and `right` both ways and leaves every other link as it is; two
   * calls can build a partition that is not transitive (a server in neither side bridges both).
   */
  cutBetween(left: readonly string[], right: readonly string[]): void {
    for (const link of this.#links.values()) {
      const crosses =
        (left.includes(link.from) && right.includes(link.to)) ||
        (right.includes(link.from) && left.includes(link.to));
      if (crosses) link.setCut(true);
    }
  }

  /** Adds latency to every link that touches `id` (0 removes it). */
  slowDown(id: string, delayMs: number): void {
    for (const link of this.#links.values()) {
      if (link.from === id || link.to === id) link.setDelay(delayMs);
    }
  }

  /** Every link works again, without added latency. */
  heal(): void {
    for (const link of this.#links.values()) {
      link.setCut(false);
      link.setDelay(0);
    }
  }

  /** Directed links currently cut, as `from->to`. */
  cutLinks(): string[] {
    return [...this.#links.values()]
      .filter((link) => link.isCut)
      .map((link) => `${link.from}->${link.to}`);
  }

  #link(from: string, to: string): LinkProxy {
    const link = this.#links.get(linkKey(from, to));
    if (link === undefined) throw new Error(`no link ${from}->${to}`);
    return link;
  }
}

function linkKey(from: string, to: string): string {
  return `${from}->${to}`;
}
