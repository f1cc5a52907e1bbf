import diagnosticsChannel from 'node:diagnostics_channel';
import type { CoreTraceEvent } from '../core/index.js';

/**
 * The `node:diagnostics_channel` every node publishes its core's trace events on: role changes,
 * commits, snapshots, and messages the core dropped with the reason (`ignored`,
 * `invalid-message`). Each event names its server in `id`.
 */
export const coreTraceChannelName = 'raftkit:core:trace';

const channel = diagnosticsChannel.channel(coreTraceChannelName);

/**
 * The tracer every node hands its core. One shared function, so nothing is built per node or per
 * event; with no subscriber it returns after one property read.
 */
export function publishCoreTrace(event: CoreTraceEvent): void {
  if (channel.hasSubscribers) channel.publish(event);
}
