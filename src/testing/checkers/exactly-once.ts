import type { AppliedRecord } from './state-machine-safety.js';
import type { ViolationLog } from './safety-violation.js';

/** Session commands remembered; beyond it the newest are no longer tracked. */
export const sessionCommandsMax = 1_000_000;

/**
 * Exactly-once (Raft thesis §6.3): a command proposed under a client session — however often its
 * client retried it, whether or not it was acknowledged — is applied by the state machine at most
 * once, so its bytes appear in at most one applied entry of the committed log. Copies that reached
 * the log again are answered from the session table and skipped. Commands are identified by their
 * bytes, so the workload must make each one unique (the simulator's workload does).
 */
export class ExactlyOnceChecker {
  readonly #log: ViolationLog;
  readonly #commands = new Map<string, string>();

  constructor(log: ViolationLog) {
    this.#log = log;
  }

  /** Session commands tracked so far. */
  get size(): number {
    return this.#commands.size;
  }

  /** `command` (a command key) was proposed under a session; `description` names it in reports. */
  track(command: string, description: string): void {
    if (this.#commands.size < sessionCommandsMax) this.#commands.set(command, description);
  }

  /** Checks the committed log: no tracked command applied from two entries. */
  checkFinal(committed: ReadonlyMap<number, AppliedRecord>): void {
    const appliedAt = new Map<string, number>();
    for (const [index, entry] of committed) {
      if (entry.command === null || !this.#commands.has(entry.command)) continue;
      this.#log.count();
      const earlier = appliedAt.get(entry.command);
      if (earlier === undefined) {
        appliedAt.set(entry.command, index);
        continue;
      }
      this.#log.report(
        'exactly-once',
        `${this.#commands.get(entry.command)!} was applied twice, at ${earlier} and at ${index}`,
      );
    }
  }
}
