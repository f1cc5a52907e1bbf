/** A server's identity in the cluster: stable across restarts and address changes. */
export type NodeId = string;

/**
 * Who takes part in the cluster. `voters` decide elections and commits. While a joint change is in
 * progress `outgoingVoters` holds the old voter set and both sets must agree (Raft thesis §4.3);
 * otherwise it is empty. `learners` receive the log but never vote. `addresses` maps a member to the
 * address other servers reach it at, so a server that joins later is reachable by everyone; the core
 * never reads it.
 */
export interface Configuration {
  readonly voters: readonly NodeId[];
  readonly outgoingVoters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly addresses: Readonly<Record<NodeId, string>>;
}

/**
 * Cluster-wide protocol options. They live in the log (a `settings` entry) so that every server uses
 * the same ones and they can change at runtime without a restart.
 */
export interface ClusterSettings {
  /** Campaign in a trial round first, so a partitioned server cannot raise everyone's term. */
  readonly preVote: boolean;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  readonly checkQuorum: boolean;
}

/** The settings a cluster starts with: both protections on, as in etcd and hashicorp/raft. */
export const clusterSettingsDefaults: ClusterSettings = Object.freeze({
  preVote: true,
  checkQuorum: true,
});

interface EntryBase {
  readonly index: number;
  readonly term: number;
}

/** An application command: opaque bytes handed to the state machine once committed. */
export interface CommandEntry extends EntryBase {
  readonly kind: 'command';
  readonly data: Uint8Array;
}

/**
 * A command that belongs to a client session (docs/sessions.md): the runtime's envelope around an
 * application's command, or a session's registration. The core treats the bytes as opaque, exactly
 * like a command's. A kind of its own means an application's command is never mistaken for one,
 * and plain commands carry nothing extra.
 */
export interface SessionEntry extends EntryBase {
  readonly kind: 'session';
  readonly data: Uint8Array;
}

/** A session entry as the runtime proposes it; the leader assigns index and term. */
export interface SessionEntryDraft {
  readonly kind: 'session';
  readonly data: Uint8Array;
}

/** Written by every new leader at the start of its term, so it can commit earlier entries (§5.4.2). */
export interface NoopEntry extends EntryBase {
  readonly kind: 'noop';
}

/** A new cluster configuration. A server uses the latest one in its log, committed or not (§4.1). */
export interface ConfigurationEntry extends EntryBase {
  readonly kind: 'configuration';
  readonly configuration: Configuration;
}

/** New cluster-wide settings, effective on every server once it holds the entry. */
export interface SettingsEntry extends EntryBase {
  readonly kind: 'settings';
  readonly settings: ClusterSettings;
}

/** One record of the replicated log. */
export type Entry = CommandEntry | SessionEntry | NoopEntry | ConfigurationEntry | SettingsEntry;

/** The opaque bytes an entry carries (a command's or a session entry's), or null for the others. */
export function entryPayload(entry: Entry): Uint8Array | null {
  return entry.kind === 'command' || entry.kind === 'session' ? entry.data : null;
}

/** The kinds of log entry, for codecs and storage. */
export type EntryKind = Entry['kind'];

/**
 * What a server must remember across restarts before it answers anyone: its term, whom it voted for
 * in that term, and how far it knows the log to be committed (an optimisation: commit is never lower
 * after a restart, but losing it is safe).
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

/**
 * Describes the log prefix that a snapshot replaces: the last index and term it covers and the
 * configuration and settings in force at that index. A freshly bootstrapped server has the marker
 * `{ index: 0, term: 0 }` with the initial configuration, so no log entry is needed to boot.
 */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly configuration: Configuration;
  readonly settings: ClusterSettings;
}

/** An empty configuration: a server that is waiting to be added by a leader. */
export const emptyConfiguration: Configuration = Object.freeze({
  voters: Object.freeze([]),
  outgoingVoters: Object.freeze([]),
  learners: Object.freeze([]),
  addresses: Object.freeze({}),
});

/** The state a server's first boot starts from. */
export function bootstrapSnapshot(
  configuration: Configuration,
  settings: ClusterSettings = clusterSettingsDefaults,
): SnapshotMeta {
  return { index: 0, term: 0, configuration, settings };
}

/** Builds a configuration from voter (and optionally learner) ids. */
export function configurationOf(
  voters: readonly NodeId[],
  options: { learners?: readonly NodeId[]; addresses?: Readonly<Record<NodeId, string>> } = {},
): Configuration {
  return {
    voters: [...voters],
    outgoingVoters: [],
    learners: [...(options.learners ?? [])],
    addresses: { ...(options.addresses ?? {}) },
  };
}
