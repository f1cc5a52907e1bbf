import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { unwatchAbort, watchAbort } from './abort-watch.js';

function watcher(log: string[], name: string) {
  return { aborted: () => log.push(name) };
}

describe('watchAbort', () => {
  it('serves every watcher of a signal from one listener and tells each once', () => {
    const controller = new AbortController();
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => watcher(log, name)) as [
      ReturnType<typeof watcher>,
      ReturnType<typeof watcher>,
      ReturnType<typeof watcher>,
    ];
    watchAbort(controller.signal, a);
    watchAbort(controller.signal, b);
    watchAbort(controller.signal, c);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    unwatchAbort(controller.signal, b);
    controller.abort();
    controller.abort();
    expect(log).toEqual(['a', 'c']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('removes the listener with the last watcher, and adds a new one for the next', () => {
    const controller = new AbortController();
    const log: string[] = [];
    const first = watcher(log, 'first');
    watchAbort(controller.signal, first);
    unwatchAbort(controller.signal, first);
    unwatchAbort(controller.signal, first);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    watchAbort(controller.signal, watcher(log, 'second'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(log).toEqual(['second']);
  });
});
