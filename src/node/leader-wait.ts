import type { NodeId } from '../core/index.js';
import type { RaftNodeEvents } from './node-events.js';
import { stoppedError } from './node-errors.js';
import type { PendingRequest } from './pending-request.js';
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
