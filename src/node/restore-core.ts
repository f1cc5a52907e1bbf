import { RaftCore, RaftError, bootstrapSnapshot, emptyConfiguration } from '../core/index.js';
import { wrapStorage } from './node-errors.js';
import type { ResolvedNodeOptions } from './node-options.js';

/** The options that decide what a node restores from. */
export type RestoreOptions = Pick<
  ResolvedNodeOptions<unknown, unknown, unknown>,
  'id' | 'storage' | 'stateMachine' | 'initialConfiguration' | 'initialSettings' | 'core' | 'random'
>;

/** A core rebuilt from storage, and the index the state machine has applied up to. */
export interface RestoredCore {
  readonly core: RaftCore;
  readonly appliedIndex: number;
}

/**
 * Opens storage (bootstrapping it on first boot) and rebuilds the core from what it holds.
 * Rejects with `APPLY_FAILED` if storage was marked broken by a failed apply: the application's
 * state cannot be trusted until someone repairs it and clears the mark.
 */
export async function restoreCore(options: RestoreOptions): Promise<RestoredCore> {
  const { storage, stateMachine } = options;
  let stored = await wrapStorage(() => storage.open());
  if (stored === null) {
    const snapshot = bootstrapSnapshot(
      options.initialConfiguration ?? emptyConfiguration,
      options.initialSettings,
    );
    const hardState = { term: 0, vote: null, commit: 0 };
    await wrapStorage(() => storage.bootstrap(snapshot, hardState));
    stored = { hardState, snapshot, lastIndex: 0, broken: null };
  }
  if (stored.broken !== undefined && stored.broken !== null) {
    throw new RaftError(
      'APPLY_FAILED',
      `storage is marked broken (${stored.broken}); repair the state machine, then clear the mark with clearBrokenMark(storage)`,
      { details: { reason: stored.broken } },
    );
  }
  const { snapshot, lastIndex, hardState } = stored;
  const entries =
    lastIndex > snapshot.index
      ? await wrapStorage(() => storage.entries(snapshot.index + 1, lastIndex + 1))
      : [];
  const applied = Math.max(snapshot.index, (await stateMachine.appliedIndex?.()) ?? 0);
  const core = new RaftCore(
    { ...options.core, id: options.id, applied, random: options.random },
    { hardState, snapshot, entries },
  );
  return { core, appliedIndex: applied };
}
