export { FileStorage, fileStorageDefaults, type FileStorageOptions } from './file-storage.js';
export type { StopClock } from '../clean-stop-record.js';
export {
  nodeFileSystem,
  type FileOpenMode,
  type FileOpenOptions,
  type StorageFile,
  type StorageFileSystem,
} from './file-system.js';
