import { onMicrotask } from '../platform/microtask.js';

/**
 * Runs the node's Ready passes one at a time, each on a microtask: asking while a pass runs (or is
 * already scheduled) does nothing, so inputs that arrive while a write is in flight accumulate in
 * the core and leave together in the next Ready — one sync for all (group commit).
 */
export class ReadyLoop {
  readonly #pass: () => Promise<boolean>;
  #running = false;
  #scheduled = false;
  #idle: Promise<void> = Promise.resolve();

  /** `pass` drains the core once and says whether more input arrived that needs another pass. */
  constructor(pass: () => Promise<boolean>) {
    this.#pass = pass;
  }

  /** Settles once the pass in progress, if any, has finished. */
  get idle(): Promise<void> {
    return this.#idle;
  }

  /** Runs a pass soon, unless one is running or already scheduled. */
  schedule(): void {
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    onMicrotask(() => {
      this.#scheduled = false;
      if (this.#running) return;
      this.#idle = this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    let again = false;
    try {
      again = await this.#pass();
    } finally {
      this.#running = false;
    }
    if (again) this.schedule();
  }
}
