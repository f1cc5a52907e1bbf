import { transportContract } from '../../testing/contracts.js';
import { InProcessNetwork } from './index.js';

transportContract({
  name: 'InProcessNetwork',
  create: (ids) => {
    const network = new InProcessNetwork();
    return { transports: new Map(ids.map((id) => [id, network.transport()])) };
  },
});
