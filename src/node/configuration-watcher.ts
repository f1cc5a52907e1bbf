import type { Configuration, Entry, NodeId, RaftCore } from '../core/index.js';

/** What happened to a configuration: it entered this server's log, committed, or was truncated away. */
export type MembershipChangeKind = 'appended' | 'committed' | 'aborted';

/** The payload of the `membership` event. */
export interface MembershipEvent {
  readonly nodeId: NodeId;
  readonly change: MembershipChangeKind;
  /** The configuration this event is about: the one appended, committed or aborted. */
  readonly configuration: Configuration;
  /**
   * For `appended`, the configuration it replaced; for `committed`, the one committed before it;
   * for `aborted`, the one in force again.
   */
  readonly previousConfiguration: Configuration;
  /** The log index of the configuration entry appended, committed or aborted. */
  readonly index: number;
}

/**
 * Turns the core's configuration history into events on every server, not only the one that
 * proposed: a configuration takes effect when it enters the log (thesis §4.1), so `appended` is
 * reported before the messages of that Ready leave (an application that maps ids to addresses can
 * learn a new member's address in time), `committed` when the entry is applied, `aborted` when a
 * new leader truncated it away.
 */
export class ConfigurationWatcher {
  readonly #nodeId: NodeId;
  readonly #publish: (event: MembershipEvent) => void;
  #inForce: { index: number; configuration: Configuration } | null = null;
  #committed: Configuration | null = null;

  constructor(nodeId: NodeId, publish: (event: MembershipEvent) => void) {
    this.#nodeId = nodeId;
    this.#publish = publish;
  }

  /** Starts from what a restarted core holds, without events for the past. */
  reset(core: RaftCore): void {
    this.#inForce = { index: core.configurationIndex, configuration: core.configuration };
    this.#committed = core.committedConfiguration.configuration;
  }

  /** Compares the core's configuration with the last one seen; call before sending messages. */
  observe(core: RaftCore): void {
    const seen = this.#inForce;
    if (seen === null) return this.reset(core);
    const index = core.configurationIndex;
    const configuration = core.configuration;
    if (index === seen.index && configuration === seen.configuration) return;
    this.#inForce = { index, configuration };
    if (index <= seen.index) {
      this.#emit('aborted', seen.configuration, configuration, seen.index);
      // A truncation can be followed at once by a different entry at the same index.
      if (index === seen.index) this.#emit('appended', configuration, seen.configuration, index);
      return;
    }
    this.#emit('appended', configuration, seen.configuration, index);
  }

  /** Reports a configuration entry as it is applied. */
  applied(entry: Entry): void {
    if (entry.kind !== 'configuration') return;
    const previous = this.#committed ?? entry.configuration;
    this.#committed = entry.configuration;
    this.#emit('committed', entry.configuration, previous, entry.index);
  }

  #emit(
    change: MembershipChangeKind,
    configuration: Configuration,
    previousConfiguration: Configuration,
    index: number,
  ): void {
    this.#publish({ nodeId: this.#nodeId, change, configuration, previousConfiguration, index });
  }
}
