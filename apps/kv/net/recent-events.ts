import type { RaftNodeEvents } from 'raftkit';
import type { KvNode } from '../server/request-executor.js';

/** One thing that happened on this server, as the dashboard's timeline shows it. */
export interface RecentEvent {
  /** Increases by one per event on this server, so a poller asks only for what it has not seen. */
  readonly sequence: number;
  readonly atMs: number;
  readonly kind: 'role' | 'term' | 'leader' | 'membership' | 'settings' | 'error';
  readonly text: string;
}

/** Events kept for pollers; older ones are dropped (a dashboard polls every second or so). */
export const recentEventsMax = 128;

/**
 * A bounded record of this server's notable events (role and leader changes, new terms,
 * membership and settings, errors), served in the status document so that a dashboard can show
 * the rows behind each moment of its timeline.
 */
export class RecentEvents {
  readonly #events: RecentEvent[] = [];
  #sequence = 0;

  constructor(node: KvNode, now: () => number = Date.now) {
    const record = (kind: RecentEvent['kind'], text: string): void => {
      this.#events.push({ sequence: ++this.#sequence, atMs: now(), kind, text });
      if (this.#events.length > recentEventsMax) this.#events.shift();
    };
    node.on('role', (event: RaftNodeEvents['role']) =>
      record('role', `${event.previousRole} → ${event.role} in term ${event.term}`),
    );
    node.on('term', (event: RaftNodeEvents['term']) => record('term', `term ${event.term}`));
    node.on('leader', (event: RaftNodeEvents['leader']) =>
      record('leader', `leader ${event.leaderId ?? 'unknown'} in term ${event.term}`),
    );
    node.on('membership', (event: RaftNodeEvents['membership']) => {
      const { voters, learners } = event.configuration;
      const learnerText = learners.length === 0 ? '' : `, learners ${learners.join(' ')}`;
      record('membership', `voters ${voters.join(' ')}${learnerText} at ${event.index}`);
    });
    node.on('settings', (event: RaftNodeEvents['settings']) =>
      record('settings', `settings ${JSON.stringify(event.settings)} at ${event.index}`),
    );
    node.on('error', (event: RaftNodeEvents['error']) =>
      record('error', `${event.fatal ? 'fatal ' : ''}${event.error.code}: ${event.error.message}`),
    );
  }

  /** The events after `sequence` that are still kept, oldest first. */
  since(sequence = 0): RecentEvent[] {
    return this.#events.filter((event) => event.sequence > sequence);
  }
}
