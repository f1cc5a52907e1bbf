import type { NodeId } from '../core/index.js';
import type { RaftNodeEvents } from './node-events.js';
import { cancelledError, stoppedError } from './node-errors.js';
import type { PendingRequest } from './pending-request.js';
import type { RequestGate } from './request-gate.js';
import type { ProposeOptions } from './request-options.js';
import type { TypedEmitter } from './typed-emitter.js';

/**
 * Resolves `request` with the first new leader that `accept` takes, and rejects it with `STOPPED`
 * if the node stops first; the listeners go away as soon as the request settles either way.
 */
export function settleOnLeader(
  node: { readonly id: NodeId; readonly events: Pick<TypedEmitter<RaftNodeEvents>, 'on'> },
  request: PendingRequest<NodeId>,
  accept: (leaderId: NodeId) => boolean,
): Promise<NodeId> {
  const unsubscribeLeader = node.events.on('leader', ({ leaderId }) => {
    if (leaderId !== null && accept(leaderId)) request.resolve(leaderId);
  });
  const unsubscribeStop = node.events.on('stopped', () =>
    request.reject(stoppedError(`node ${node.id} stopped`)),
  );
  const cleanup = (): void => {
    unsubscribeLeader();
    unsubscribeStop();
  };
  void request.promise.then(cleanup, cleanup);
  return request.promise;
}

/**
 * `RaftNode.waitForLeader`: the leader already `known`, or the next one; `STOPPED` when the node
 * is not `active` or stops first.
 */
export function waitForLeader(
  node: { readonly id: NodeId; readonly events: Pick<TypedEmitter<RaftNodeEvents>, 'on'> },
  state: { readonly active: boolean; readonly known: NodeId | null; readonly gate: RequestGate },
  options: ProposeOptions,
): Promise<NodeId> {
  if (!state.active) return Promise.reject(stoppedError(`node ${node.id} is not running`));
  if (state.known !== null) return Promise.resolve(state.known);
  const request = state.gate.request<NodeId>(options, (reason) =>
    cancelledError(reason, 'wait for a leader'),
  );
  return settleOnLeader(node, request, () => true);
}
