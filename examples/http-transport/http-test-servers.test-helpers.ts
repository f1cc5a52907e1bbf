import { createServer, type Server } from 'node:http';
import type { NodeId } from 'raftkit';
import { StaticDiscovery } from 'raftkit/discovery';
import { HttpTransport, type HttpTransportOptions } from './http-transport.js';

/** One application server per id on 127.0.0.1, each with its own routes and a Raft route. */
export async function startHttpServers(
  ids: readonly NodeId[],
  options: (id: NodeId) => Partial<HttpTransportOptions> = () => ({}),
) {
  const discovery = new StaticDiscovery();
  const transports = new Map<NodeId, HttpTransport>();
  const servers: Server[] = [];
  for (const id of ids) {
    const transport = new HttpTransport({ discovery, ...options(id) });
    const server = createServer((request, response) => {
      if (transport.handle(request, response)) return;
      // The application's own route, untouched by Raft.
      response.end(`hello from ${id}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    discovery.set(id, { host: '127.0.0.1', port: address.port });
    transports.set(id, transport);
    servers.push(server);
  }
  const close = async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  };
  return { discovery, transports, close };
}
