export {
  MemoryStorage,
  type DurableMemoryState,
  type MemoryCrashOptions,
  type MemoryStorageOptions,
} from './memory-storage.js';
