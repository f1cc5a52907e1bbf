import type { SimRunResult } from './run-simulation.js';

/** Failed seeds listed at most in a summary; the count is always exact. */
const failedSeedsListedMax = 100;

/** Totals over many seeded runs, for the command line and for reports. */
export class SimSummary {
  seeds = 0;
  steps = 0;
  virtualTimeMs = 0;
  checks = 0;
  operations = 0;
  readonly faults = new Map<string, number>();
  /** Snapshots taken, sent and installed over all runs. */
  readonly snapshots = new Map<string, number>();
  readonly violations = new Map<string, number>();
  readonly linearizability = new Map<string, number>();
  /** Runs by how their clients read, and by cluster size. */
  readonly readPaths = new Map<string, number>();
  readonly clusterSizes = new Map<string, number>();
  readonly failedSeeds: number[] = [];

  /** Adds one run. */
  add(result: SimRunResult): void {
    this.seeds++;
    this.steps += result.steps;
    this.virtualTimeMs += result.virtualTimeMs;
    this.checks += result.checks;
    this.operations += result.operations;
    for (const [kind, count] of result.faults) increment(this.faults, kind, count);
    for (const [kind, count] of Object.entries(result.snapshots)) {
      increment(this.snapshots, kind, count);
    }
    for (const violation of result.violations) increment(this.violations, violation.property, 1);
    increment(this.linearizability, result.linearizability, 1);
    increment(this.readPaths, result.plan.readPath, 1);
    increment(this.clusterSizes, `${result.plan.nodes} nodes`, 1);
    if (result.failed) this.failedSeeds.push(result.seed);
  }

  /** Faults injected over all runs. */
  get faultsTotal(): number {
    let total = 0;
    for (const count of this.faults.values()) total += count;
    return total;
  }

  /** The summary as plain data. */
  toJson(wallMs: number): Record<string, unknown> {
    return {
      seeds: this.seeds,
      steps: this.steps,
      virtualTimeMs: Math.round(this.virtualTimeMs),
      wallMs: Math.round(wallMs),
      checks: this.checks,
      operations: this.operations,
      faults: Object.fromEntries(sorted(this.faults)),
      faultsTotal: this.faultsTotal,
      snapshots: Object.fromEntries(sorted(this.snapshots)),
      violations: Object.fromEntries(sorted(this.violations)),
      linearizability: Object.fromEntries(sorted(this.linearizability)),
      readPaths: Object.fromEntries(sorted(this.readPaths)),
      clusterSizes: Object.fromEntries(sorted(this.clusterSizes)),
      failedSeeds: this.failedSeeds,
    };
  }

  /** The summary for people. */
  format(wallMs: number): string {
    const list = (map: Map<string, number>): string =>
      map.size === 0
        ? 'none'
        : sorted(map)
            .map(([key, count]) => `${key} ${count}`)
            .join(', ');
    const failed = this.failedSeeds.slice(0, failedSeedsListedMax).join(' ');
    return [
      `seeds           ${this.seeds}`,
      `steps           ${this.steps}`,
      `virtual time    ${(this.virtualTimeMs / 1000).toFixed(1)} s`,
      `wall time       ${(wallMs / 1000).toFixed(1)} s`,
      `clusters        ${list(this.clusterSizes)}`,
      `read paths      ${list(this.readPaths)} (runs)`,
      `client ops      ${this.operations}`,
      `faults          ${this.faultsTotal} (${list(this.faults)})`,
      `snapshots       ${list(this.snapshots)}`,
      `checks          ${this.checks}`,
      `linearizability ${list(this.linearizability)}`,
      `violations      ${list(this.violations)}`,
      `failed seeds    ${this.failedSeeds.length}${failed === '' ? '' : `: ${failed}`}`,
    ].join('\n');
  }
}

function increment(map: Map<string, number>, key: string, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

function sorted(map: Map<string, number>): [string, number][] {
  return [...map].sort(([left], [right]) => left.localeCompare(right));
}
