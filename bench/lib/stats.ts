import { cpus, loadavg, totalmem } from 'node:os';

/** The value below which `fraction` of `sorted` lies (nearest rank); NaN for no samples. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

/** Milliseconds rounded to microseconds, the resolution worth printing. */
export function roundMs(value: number): number {
  return Number(value.toFixed(3));
}

/** Latency samples in milliseconds, summarized; sorts `samples` in place. */
export function latencySummary(samples: number[]): { p50Ms: number; p99Ms: number } {
  samples.sort((left, right) => left - right);
  return { p50Ms: roundMs(percentile(samples, 0.5)), p99Ms: roundMs(percentile(samples, 0.99)) };
}

/** The median of a list of numbers (NaN when empty). */
export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((left, right) => left - right),
    0.5,
  );
}

/** What every figure is measured on, recorded beside it. */
export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGigabytes: number;
  readonly node: string;
  readonly platform: string;
  /** Load averages (1, 5, 15 min) when the run started: other work on a shared machine. */
  readonly loadAverage: readonly number[];
}

export function describeMachine(): Machine {
  const processors = cpus();
  return {
    cores: processors.length,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    memoryGigabytes: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
  };
}

/** `value / base` with two decimals, or null when either side was not measured. */
export function ratio(value: number | undefined, base: number | undefined): number | null {
  if (value === undefined || base === undefined || !(base > 0) || !Number.isFinite(value)) {
    return null;
  }
  return Number((value / base).toFixed(2));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
