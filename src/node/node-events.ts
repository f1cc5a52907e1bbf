import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClusterSettings, Entry, NodeId, RaftError, Role, SoftState } from '../core/index.js';
import type { MembershipEvent } from './configuration-watcher.js';
import type { NodeCounters } from './node-counters.js';

/** Every event a node emits, by name, with its payload. Each payload names the node. */
export interface RaftNodeEvents {
  /** This server's role changed. */
  role: {
    readonly nodeId: NodeId;
    readonly role: Role;
    readonly previousRole: Role;
    readonly term: number;
  };
  /** This server entered a new term. */
  term: { readonly nodeId: NodeId; readonly term: number };
  /** The leader this server follows changed (`null`: none known, an election is under way). */
  leader: { readonly nodeId: NodeId; readonly leaderId: NodeId | null; readonly term: number };
  /**
   * A configuration entry entered this server's log (`appended`: in force from now on), was
   * applied (`committed`), or was truncated away by a new leader (`aborted`). Every member
   * reports every change, with the configuration before it.
   */
  membership: MembershipEvent;
  /** A settings entry was applied. */
  settings: { readonly nodeId: NodeId; readonly settings: ClusterSettings; readonly index: number };
  /** A batch of entries was applied; `appliedIndex` is the last. */
  applied: { readonly nodeId: NodeId; readonly appliedIndex: number; readonly entries: number };
  /**
   * A snapshot was taken here, sent to a follower (`peer`), or installed here from the leader
   * (`peer` is the sender), with its size and how long it took.
   */
  snapshot: {
    readonly nodeId: NodeId;
    readonly kind: 'taken' | 'sent' | 'installed';
    readonly index: number;
    readonly bytes: number;
    readonly durationMs: number;
    readonly peer: NodeId | null;
  };
  /** Something went wrong that the application should know about; fatal ones stop the node. */
  error: { readonly nodeId: NodeId; readonly error: RaftError; readonly fatal: boolean };
  /** The node stopped; `error` is set when it stopped because of a fatal error. */
  stopped: { readonly nodeId: NodeId; readonly error: RaftError | null };
}

/** The `node:diagnostics_channel` name each event is mirrored on, e.g. `raftkit:node:role`. */
export function diagnosticsChannelName(event: keyof RaftNodeEvents): string {
  return `raftkit:node:${event}`;
}

// By event name, not channel name: every applied batch publishes, and building the channel's
// name to look it up was most of the cost of publishing to nobody.
const channels = new Map<keyof RaftNodeEvents, diagnosticsChannel.Channel>();

/** Publishes on the event's diagnostics channel when anyone listens (free otherwise). */
export function publishDiagnostics(event: keyof RaftNodeEvents, payload: unknown): void {
  let channel = channels.get(event);
  if (channel === undefined) {
    channel = diagnosticsChannel.channel(diagnosticsChannelName(event));
    channels.set(event, channel);
  }
  if (channel.hasSubscribers) channel.publish(payload);
}

/** Hands one event to the node's own listeners. */
export type EmitEvent = <K extends keyof RaftNodeEvents>(
  event: K,
  payload: RaftNodeEvents[K],
) => void;

/**
 * Turns what the Ready loop observed (a new role, term or leader; applied entries) into the node's
 * events, each delivered to listeners and mirrored on its diagnostics channel.
 */
export class NodeEventPublisher {
  readonly #nodeId: NodeId;
  readonly #emit: EmitEvent;
  readonly #counters: NodeCounters;

  constructor(options: { nodeId: NodeId; emit: EmitEvent; counters: NodeCounters }) {
    this.#nodeId = options.nodeId;
    this.#emit = options.emit;
    this.#counters = options.counters;
  }

  publish<K extends keyof RaftNodeEvents>(event: K, payload: RaftNodeEvents[K]): void {
    this.#emit(event, payload);
    publishDiagnostics(event, payload);
  }

  /** Publishes what changed between two soft states: term, then role, then leader. */
  softStateChanged(previous: SoftState, soft: SoftState): void {
    const nodeId = this.#nodeId;
    if (soft.term !== previous.term) this.publish('term', { nodeId, term: soft.term });
    if (soft.role !== previous.role) {
      if (soft.role === 'candidate') this.#counters.elections++;
      const { role, term } = soft;
      this.publish('role', { nodeId, role, previousRole: previous.role, term });
    }
    if (soft.leaderId !== previous.leaderId) {
      this.#counters.leaderChanges++;
      this.publish('leader', { nodeId, leaderId: soft.leaderId, term: soft.term });
    }
  }

  /**
   * Publishes the settings entries of an applied batch, then the batch itself. (Configuration
   * entries are reported by the `ConfigurationWatcher`, which knows the one before them.)
   */
  applied(entries: readonly Entry[], appliedIndex: number): void {
    const nodeId = this.#nodeId;
    for (const entry of entries) {
      if (entry.kind === 'settings') {
        this.publish('settings', { nodeId, settings: entry.settings, index: entry.index });
      }
    }
    this.publish('applied', { nodeId, appliedIndex, entries: entries.length });
  }

  /** A listener threw: counted and reported on the diagnostics channel, never to the node. */
  listenerFailed(error: RaftError): void {
    this.#counters.listenerErrors++;
    publishDiagnostics('error', { nodeId: this.#nodeId, error, fatal: false });
  }
}
