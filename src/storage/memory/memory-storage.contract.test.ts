import { logStorageContract } from '../../testing/contracts.js';
import { MemoryStorage } from './memory-storage.js';

logStorageContract({
  name: 'MemoryStorage',
  create: () => new MemoryStorage(),
  reopen: (storage) => storage,
  destroy: () => undefined,
  crash: (storage) => storage.crash(),
});
