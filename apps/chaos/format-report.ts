import { replayCommand, type ChaosOptions } from './chaos-options.js';
import type { ChaosReport } from './run-chaos.js';

/** The end-of-run summary for people: operations, faults by kind, checks and the verdict. */
export function formatReport(report: ChaosReport, options: ChaosOptions): string {
  const operations = report.operations;
  const byKind = Object.entries(operations.byKind)
    .map(([name, counts]) => `${name} ${counts.ok} ok / ${counts.unknown} unknown`)
    .join(', ');
  const faults = Object.entries(report.faults)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
  const totalFaults = Object.values(report.faults).reduce((sum, count) => sum + count, 0);
  const lines = [
    `seed ${report.seed}, ${report.durationS} s under faults, ${report.elapsedS} s in all`,
    `operations: ${operations.total} recorded (${byKind}); ${operations.refused} refused by the server; ${operations.afterHealing} completed after healing; ${report.keys} keys`,
    `faults: ${totalFaults} (${faults || 'none'}); ${report.snapshotsInstalled} snapshots installed by servers that fell behind`,
    `linearizability: ${report.linearizability.message}`,
  ];
  for (const violation of report.violations) lines.push(`VIOLATION ${violation}`);
  lines.push(`verdict: ${report.verdict.toUpperCase()}`);
  if (report.verdict === 'pass') {
    lines.push(`history: ${options.out}/history.json`);
  } else {
    lines.push(
      `kept in ${options.out}: history.json, faults.json, summary.json, logs/, data/`,
      `replay the same seed (same fault plan and workload; timing on real processes differs):`,
      `  ${replayCommand(options)}`,
    );
  }
  return lines.join('\n');
}
