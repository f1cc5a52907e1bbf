import type { NodeId } from '../../core/types.js';
import type { Role } from '../../core/configuration.js';
import type { Message } from '../../transport/transport.js';
import type { SimClusterListener } from './cluster-listener.js';

/** What a trigger may look at: the part of a `SimCluster` that does not depend on its types. */
export interface PauseTarget {
  isUp(nodeId: NodeId): boolean;
  node(nodeId: NodeId): { readonly role: Role; status(): { readonly commitIndex: number } };
  leader(): object | null;
  listen(listener: SimClusterListener): () => void;
}

/** A trigger armed on one cluster: it watches from the moment it is armed. */
export interface ArmedTrigger {
  /** Whether the trigger fired (it stays fired). */
  reached(): boolean;
  /** Stops watching. */
  disarm(): void;
}

/**
 * A composable condition for {@link SimCluster.runUntil}: "when n2 becomes leader", "when the
 * commit index on n1 reaches 5", "when n1 sends an append-entries to n3", and `and` / `or` of
 * those. Event triggers latch: once the message was sent, the trigger stays reached.
 */
export interface PauseTrigger {
  /** Words for timeouts and traces: `n2 is leader and commit on n1 >= 5`. */
  readonly description: string;
  /** Starts watching `cluster`. */
  arm(cluster: PauseTarget): ArmedTrigger;
}

/**
 * What `runUntil` accepts: a trigger or a plain predicate checked before every step. `Target` is
 * the cluster the predicate is given (a `SimCluster`); this module never names it, so the cluster
 * can import the triggers without an import cycle.
 */
export type PauseCondition<Target extends PauseTarget = PauseTarget> =
  PauseTrigger | ((cluster: Target) => boolean);

/** Whether `condition` is a {@link PauseTrigger} rather than a predicate. */
export function isPauseTrigger<Target extends PauseTarget>(
  condition: PauseCondition<Target>,
): condition is PauseTrigger {
  return typeof condition === 'object';
}

/** A trigger that checks the cluster's state before every step. */
function stateTrigger(description: string, holds: (cluster: PauseTarget) => boolean): PauseTrigger {
  return {
    description,
    arm: (cluster) => ({ reached: () => holds(cluster), disarm: () => undefined }),
  };
}

/** When `nodeId` is a running leader. */
export function whenLeader(nodeId: NodeId): PauseTrigger {
  return stateTrigger(
    `${nodeId} is leader`,
    (cluster) => cluster.isUp(nodeId) && cluster.node(nodeId).role === 'leader',
  );
}

/** When any running node is leader. */
export function whenAnyLeader(): PauseTrigger {
  return stateTrigger('a leader is elected', (cluster) => cluster.leader() !== null);
}

/** When the commit index on `nodeId` reaches `index`. */
export function whenCommitIndex(nodeId: NodeId, index: number): PauseTrigger {
  return stateTrigger(
    `commit on ${nodeId} >= ${index}`,
    (cluster) => cluster.isUp(nodeId) && cluster.node(nodeId).status().commitIndex >= index,
  );
}

/** Which messages {@link whenMessageSent} waits for; fields left out match anything. */
export interface MessagePattern {
  /** The message type, e.g. `append-entries`, `request-vote`. */
  readonly type?: Message['type'];
  readonly from?: NodeId;
  readonly to?: NodeId;
  /** Any further test on the message. */
  readonly where?: (message: Message) => boolean;
}

/** When a message matching `pattern` is sent (the run pauses with it in flight). */
export function whenMessageSent(pattern: MessagePattern): PauseTrigger {
  const words = [
    pattern.type ?? 'a message',
    pattern.from === undefined ? '' : `from ${pattern.from}`,
    pattern.to === undefined ? '' : `to ${pattern.to}`,
  ].filter((word) => word !== '');
  return {
    description: `${words.join(' ')} is sent`,
    arm(cluster) {
      let seen = false;
      const stop = cluster.listen({
        onSend(message) {
          if (matches(pattern, message)) seen = true;
        },
      });
      return { reached: () => seen, disarm: stop };
    },
  };
}

function matches(pattern: MessagePattern, message: Message): boolean {
  if (pattern.type !== undefined && message.type !== pattern.type) return false;
  if (pattern.from !== undefined && message.from !== pattern.from) return false;
  if (pattern.to !== undefined && message.to !== pattern.to) return false;
  return pattern.where === undefined || pattern.where(message);
}

/** When every one of `triggers` has been reached (each latches on its own). */
export function and(...triggers: readonly PauseTrigger[]): PauseTrigger {
  return combine('and', triggers, (reached) => reached.every(Boolean));
}

/** When any one of `triggers` is reached. */
export function or(...triggers: readonly PauseTrigger[]): PauseTrigger {
  return combine('or', triggers, (reached) => reached.some(Boolean));
}

function combine(
  word: string,
  triggers: readonly PauseTrigger[],
  decide: (reached: boolean[]) => boolean,
): PauseTrigger {
  return {
    description: triggers.map((trigger) => `(${trigger.description})`).join(` ${word} `),
    arm(cluster) {
      const armed = triggers.map((trigger) => trigger.arm(cluster));
      // A state trigger may hold now and not later; `and` asks that each held at some point.
      const latched = armed.map(() => false);
      return {
        reached() {
          armed.forEach((trigger, position) => {
            if (!latched[position] && trigger.reached()) latched[position] = true;
          });
          return decide(latched);
        },
        disarm() {
          for (const trigger of armed) trigger.disarm();
        },
      };
    },
  };
}
