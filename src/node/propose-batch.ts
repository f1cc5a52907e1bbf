import { RaftError } from '../core/index.js';
import type { NodeCounters } from './node-counters.js';
import type { ProposalPipeline } from './proposal-pipeline.js';
import type { NodeView, RequestGate } from './request-gate.js';
import { findOptionsError, type ProposeOptions } from './request-options.js';

/** What `proposeBatch` needs of its node, at the moment of the call. */
export interface BatchNode {
  readonly gate: RequestGate;
  readonly view: NodeView;
  readonly proposals: Pick<ProposalPipeline, 'enqueueBatch'>;
  readonly counters: NodeCounters;
}

/** The node's settings that shape a batch. */
export interface BatchSettings {
  readonly forwardProposals: boolean;
  readonly proposalBatchMax: number;
  readonly pendingRequestsMax: number;
}

/**
 * The most commands one batch may hold: it is appended in one piece, so at most
 * `proposalBatchMax`, and it is admitted whole, so at most `pendingRequestsMax`.
 */
export function batchCommandsMax(settings: BatchSettings): number {
  return Math.min(settings.proposalBatchMax, settings.pendingRequestsMax);
}

/**
 * The leader's side of `RaftNode.proposeBatch`: checks the call, admits the batch whole (it counts
 * one pending request per command) and queues it to be appended in one piece. Resolves with one
 * result per command, in order.
 */
export function proposeBatch(
  node: BatchNode,
  settings: BatchSettings,
  commands: readonly Uint8Array[],
  options: ProposeOptions,
): Promise<unknown[]> {
  const checked = checkBatch(commands, options, batchCommandsMax(settings));
  if (checked instanceof RaftError) return Promise.reject(checked);
  if (checked.length === 0) return Promise.resolve([]);
  const refusal = node.gate.requireLeader(node.view, checked.length);
  if (refusal !== null) {
    return Promise.reject(settings.forwardProposals ? notForwarded(refusal) : refusal);
  }
  node.counters.proposals += checked.length;
  return node.proposals.enqueueBatch(node.gate.batch(checked, options));
}

/**
 * The batch's own copy of `commands` (so that the caller may reuse its array once the call
 * returns), or why the call is unusable. Nothing of a refused call reached the log.
 */
function checkBatch(
  commands: readonly Uint8Array[],
  options: ProposeOptions,
  commandsMax: number,
): Uint8Array[] | RaftError {
  if (typeof options === 'object' && options !== null && hasSession(options)) {
    return invalid(
      'session',
      'proposeBatch takes no session: a session numbers each command on its own, so propose ' +
        'session commands one by one (ClientSession.propose)',
    );
  }
  const optionsError = findOptionsError(options);
  if (optionsError !== null) return optionsError;
  if (!Array.isArray(commands)) {
    return invalid('commands', 'proposeBatch takes an array of Uint8Array commands');
  }
  const given = commands as readonly unknown[];
  if (given.length > commandsMax) {
    return invalid(
      'commands',
      `a batch holds at most ${commandsMax} commands (proposalBatchMax and pendingRequestsMax), got ${given.length}`,
      given.length,
    );
  }
  const copy = new Array<Uint8Array>(given.length);
  for (let position = 0; position < given.length; position++) {
    const command = given[position];
    if (!(command instanceof Uint8Array)) {
      return invalid(
        `commands[${position}]`,
        `command ${position} of the batch is not a Uint8Array`,
      );
    }
    copy[position] = command;
  }
  return copy;
}

/** Whether a caller passed `propose`'s session option here, where the type has none. */
function hasSession(options: ProposeOptions): boolean {
  return (options as { readonly session?: unknown }).session !== undefined;
}

function invalid(option: string, message: string, value?: number): RaftError {
  const details = value === undefined ? { option } : { option, value };
  return new RaftError('INVALID_CONFIG', message, {
    details: { ...details, outcome: 'not-applied' },
  });
}

/** Says why a follower with `forwardProposals` on still refuses a batch. */
function notForwarded(error: RaftError): RaftError {
  if (error.code === 'NOT_LEADER' || error.code === 'NO_LEADER') {
    // The gate made this error for this call alone, so it may be worded for it.
    error.message +=
      '; proposeBatch is not forwarded (forwardProposals covers propose only): send the batch to the leader';
  }
  return error;
}
