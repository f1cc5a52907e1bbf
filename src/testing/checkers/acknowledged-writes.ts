import type { ViolationLog } from './safety-violation.js';

/** Acknowledged writes remembered; beyond it the oldest are no longer tracked (and counted). */
export const acknowledgedWritesMax = 1_000_000;

/**
 * No acknowledged write is lost: every command whose `propose` resolved must be in the committed
 * log at the end of the run. Commands are identified by their bytes, so the workload must make
 * each write unique (the simulator's workload does).
 */
export class AcknowledgedWritesChecker {
  readonly #log: ViolationLog;
  readonly #acknowledged = new Map<string, string>();

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** Writes acknowledged so far. */
  get size(): number {
    return this.#acknowledged.size;
  }

  /** The write `command` (a command key) was acknowledged; `description` names it in reports. */
  acknowledge(command: string, description: string): void {
    if (this.#acknowledged.size < acknowledgedWritesMax) {
      this.#acknowledged.set(command, description);
    }
  }

  /** Checks every acknowledged write against the commands of the final committed log. */
  checkFinal(committedCommands: ReadonlySet<string>): void {
    for (const [command, description] of this.#acknowledged) {
      this.#log.count();
      if (!committedCommands.has(command)) {
        this.#log.report(
          'acknowledged-write-lost',
          `${description} was acknowledged but is not in the committed log`,
        );
      }
    }
  }
}
