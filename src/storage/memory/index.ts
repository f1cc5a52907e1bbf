export {
  MemoryStorage,
  type MemoryCrashOptions,
  type MemoryStorageOptions,
} from './memory-storage.js';
