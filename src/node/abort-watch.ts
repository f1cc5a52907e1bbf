/** Something that gives up when an AbortSignal it was registered with aborts. */
export interface AbortWatcher {
  aborted(): void;
}

/** The watchers of one signal, and the one listener that serves them all. */
interface Watch {
  readonly watchers: Set<AbortWatcher>;
  readonly listener: () => void;
}

const watches = new WeakMap<AbortSignal, Watch>();

/**
 * Registers `watcher` to hear once that `signal` aborted. Requests made with the same signal (an
 * application's per-deadline signal, shared by everything due at once) share one 'abort'
 * listener: adding and removing an EventTarget listener costs ten times a whole proposal's work
 * in the runtime, and a Set entry next to nothing. The signal must not be aborted yet.
 */
export function watchAbort(signal: AbortSignal, watcher: AbortWatcher): void {
  let watch = watches.get(signal);
  if (watch === undefined) {
    const watchers = new Set<AbortWatcher>();
    const listener = (): void => {
      watches.delete(signal);
      for (const each of watchers) each.aborted();
      watchers.clear();
    };
    watch = { watchers, listener };
    watches.set(signal, watch);
    signal.addEventListener('abort', listener, { once: true });
  }
  watch.watchers.add(watcher);
}

/**
 * Forgets `watcher` (its request settled). The signal's listener goes with its last watcher, so a
 * long-lived signal does not keep settled requests or an idle listener alive.
 */
export function unwatchAbort(signal: AbortSignal, watcher: AbortWatcher): void {
  const watch = watches.get(signal);
  if (watch === undefined || !watch.watchers.delete(watcher) || watch.watchers.size > 0) return;
  watches.delete(signal);
  signal.removeEventListener('abort', watch.listener);
}
