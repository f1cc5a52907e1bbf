/** The bytes of the workload entry at `index` written in `term`: checkable without a record. */
export function workloadData(index: number, term: number): Uint8Array {
  // Sizes vary so that records straddle segment boundaries at different offsets.
  const padding = '.'.repeat((index * 7919) % 300);
  return new TextEncoder().encode(`entry ${index} term ${term} ${padding}`);
}

/** Segment size for the crash workload: small, so rotation and deletion happen often. */
export const workloadSegmentBytesMax = 32 * 1024;
