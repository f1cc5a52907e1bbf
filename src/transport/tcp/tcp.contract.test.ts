import { StaticDiscovery } from '../../discovery/static-discovery.js';
import { transportContract } from '../../testing/contracts.js';
import { TcpTransport } from './tcp-transport.js';

transportContract({
  name: 'TcpTransport',
  create: (ids) => {
    const discovery = new StaticDiscovery();
    const transports = new Map(
      ids.map((id) => [
        id,
        new TcpTransport({ clusterId: 'contract', listen: '127.0.0.1:0', discovery }),
      ]),
    );
    return {
      transports,
      started: () => {
        for (const [id, transport] of transports) discovery.set(id, transport.address()!);
      },
    };
  },
});
