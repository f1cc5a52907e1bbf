export {
  SqliteStorage,
  sqliteStorageDefaults,
  type SqliteDatabase,
  type SqliteStorageOptions,
} from './sqlite-storage.js';
export type { StopClock } from '../clean-stop-record.js';
export {
  SqliteKeyValueStore,
  encodeKeyValueCommand,
  type KeyValueApplyContext,
  type KeyValueCommand,
  type KeyValueResult,
} from './sqlite-key-value-store.js';
export {
  restoreSqliteTables,
  snapshotSqliteTables,
  sqliteSnapshotChunkBytes,
  type SqliteTableSnapshotOptions,
} from './sqlite-table-snapshot.js';
