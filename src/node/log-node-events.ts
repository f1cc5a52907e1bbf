import type { Configuration } from '../core/index.js';
import type { RaftNodeEvents } from './node-events.js';
import { childLogger, type Logger } from '../platform/logger.js';
import type { Unsubscribe } from './typed-emitter.js';

/** What {@link logNodeEvents} needs of a node: its typed events. */
export interface NodeEventSource {
  on<K extends keyof RaftNodeEvents>(
    event: K,
    listener: (payload: RaftNodeEvents[K]) => void,
  ): Unsubscribe;
}

function members(configuration: Configuration): Record<string, unknown> {
  return {
    voters: [...configuration.voters],
    learners: [...configuration.learners],
    // Non-empty only during a joint change.
    ...(configuration.outgoingVoters.length === 0
      ? {}
      : { outgoingVoters: [...configuration.outgoingVoters] }),
  };
}

/**
 * Writes a node's events to `logger`: elections and role changes, leader changes, membership and
 * settings changes, snapshots (taken at debug level; sent and installed at info), errors with their cause (storage failures among them), and the stop. Every
 * line carries `nodeId`. Returns a function that stops logging.
 *
 * ```ts
 * logNodeEvents(node, pino());
 * ```
 */
export function logNodeEvents(node: NodeEventSource, logger: Logger): Unsubscribe {
  const log = (nodeId: string): Logger => childLogger(logger, { nodeId });
  const unsubscribers = [
    node.on('role', ({ nodeId, role, previousRole, term }) => {
      if (role === 'candidate' || role === 'pre-candidate') {
        log(nodeId).info({ term, previousRole }, 'election started');
      } else if (role === 'leader') {
        log(nodeId).info({ term }, 'elected leader');
      } else {
        log(nodeId).info({ term, role, previousRole }, 'role changed');
      }
    }),
    node.on('leader', ({ nodeId, leaderId, term }) => {
      if (leaderId === null) log(nodeId).warn({ term }, 'leader lost');
      else log(nodeId).info({ term, leaderId }, 'leader changed');
    }),
    node.on('membership', ({ nodeId, change, configuration, index }) => {
      log(nodeId).info({ index, ...members(configuration) }, `membership change ${change}`);
    }),
    node.on('settings', ({ nodeId, settings, index }) => {
      log(nodeId).info({ index, settings }, 'settings changed');
    }),
    node.on('snapshot', ({ nodeId, kind, index, bytes, durationMs, peer }) => {
      // Taking one is routine (debug); sending and installing mean a follower fell behind the log.
      const fields = {
        index,
        bytes,
        durationMs: Math.round(durationMs),
        ...(peer === null ? {} : { peer }),
      };
      if (kind === 'taken') log(nodeId).debug(fields, 'snapshot taken');
      else log(nodeId).info(fields, `snapshot ${kind}`);
    }),
    node.on('error', ({ nodeId, error, fatal }) => {
      const fields = { code: error.code, fatal, error, details: error.details };
      if (fatal) log(nodeId).error(fields, `stopping: ${error.message}`);
      else log(nodeId).warn(fields, error.message);
    }),
    node.on('stopped', ({ nodeId, error }) => {
      if (error === null) log(nodeId).info({}, 'stopped');
      else log(nodeId).error({ code: error.code, error }, 'stopped by a fatal error');
    }),
  ];
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}
