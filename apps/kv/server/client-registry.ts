import type { ConnectionState } from './server-context.js';

/** A connection as the registry sees it: its state, and how to close it. */
export interface RegisteredClient {
  readonly state: ConnectionState;
  /** Closes the connection at once; replies in flight are dropped. */
  close(): void;
}

/**
 * The open client connections of one server, by id: what CLIENT LIST shows, what CLIENT KILL
 * closes, and what `maxclients` counts.
 */
export class ClientRegistry {
  readonly #clients = new Map<number, RegisteredClient>();

  get size(): number {
    return this.#clients.size;
  }

  add(client: RegisteredClient): void {
    this.#clients.set(client.state.id, client);
  }

  remove(id: number): void {
    this.#clients.delete(id);
  }

  /** Every connection, oldest first. */
  list(): readonly RegisteredClient[] {
    return [...this.#clients.values()];
  }

  /** Closes the connections `matches` selects; how many it closed. */
  kill(matches: (state: ConnectionState) => boolean): number {
    let killed = 0;
    for (const client of this.list()) {
      if (!matches(client.state)) continue;
      client.close();
      killed++;
    }
    return killed;
  }
}
