import { transportContract } from 'raftkit/testing/contracts';
import { startHttpServers } from './http-test-servers.test-helpers.js';

transportContract({
  name: 'HttpTransport (example)',
  create: async (ids) => {
    const { transports, close } = await startHttpServers(ids, () => ({ token: 'shared' }));
    return { transports, destroy: close };
  },
});
