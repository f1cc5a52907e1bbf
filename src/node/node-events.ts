import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClusterSettings, Configuration, NodeId, RaftError, Role } from '../core/index.js';

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
  /** A configuration entry was applied: this is the committed membership from now on. */
  membership: {
    readonly nodeId: NodeId;
    readonly configuration: Configuration;
    readonly index: number;
  };
  /** A settings entry was applied. */
  settings: { readonly nodeId: NodeId; readonly settings: ClusterSettings; readonly index: number };
  /** A batch of entries was applied; `appliedIndex` is the last. */
  applied: { readonly nodeId: NodeId; readonly appliedIndex: number; readonly entries: number };
  /** Something went wrong that the application should know about; fatal ones stop the node. */
  error: { readonly nodeId: NodeId; readonly error: RaftError; readonly fatal: boolean };
  /** The node stopped; `error` is set when it stopped because of a fatal error. */
  stopped: { readonly nodeId: NodeId; readonly error: RaftError | null };
}

/** The `node:diagnostics_channel` name each event is mirrored on, e.g. `raftkit:node:role`. */
export function diagnosticsChannelName(event: keyof RaftNodeEvents): string {
  return `raftkit:node:${event}`;
}

const channels = new Map<string, diagnosticsChannel.Channel>();

/** Publishes on the event's diagnostics channel when anyone listens (free otherwise). */
export function publishDiagnostics(event: keyof RaftNodeEvents, payload: unknown): void {
  const name = diagnosticsChannelName(event);
  let channel = channels.get(name);
  if (channel === undefined) {
    channel = diagnosticsChannel.channel(name);
    channels.set(name, channel);
  }
  if (channel.hasSubscribers) channel.publish(payload);
}
