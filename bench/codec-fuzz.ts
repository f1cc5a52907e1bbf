// Fuzzes the message codec: random valid messages, damaged in several ways, fed through the frame
// decoder. Every case must either decode to a message that re-encodes byte for byte, or be rejected
// with INVALID_MESSAGE; anything else stops the run with the seed and case number.
//
//   node --conditions=raftkit-source --import tsx bench/codec-fuzz.ts [cases] [seed]
import { mkdirSync, writeFileSync } from 'node:fs';
import { runCodecFuzz } from 'raftkit/testing';

const casesDefault = 1_000_000;
// Progress is printed per batch, so a long run shows it is alive.
const batchCases = 100_000;

const cases = Number(process.argv[2] ?? casesDefault);
const seed = Number(process.argv[3] ?? Date.now() % 0x7fff_ffff);
if (!Number.isSafeInteger(cases) || cases <= 0 || !Number.isSafeInteger(seed)) {
  throw new Error('usage: codec-fuzz.ts [cases] [seed]');
}

const totals = { cases: 0, decoded: 0, rejected: 0, incomplete: 0 };
const started = performance.now();
for (let batch = 0; totals.cases < cases; batch++) {
  const batchSeed = seed + batch;
  const report = runCodecFuzz({
    seed: batchSeed,
    cases: Math.min(batchCases, cases - totals.cases),
  });
  totals.cases += report.cases;
  totals.decoded += report.decoded;
  totals.rejected += report.rejected;
  totals.incomplete += report.incomplete;
  process.stdout.write(`  ${totals.cases} cases (batch seed ${batchSeed})\n`);
}
const seconds = (performance.now() - started) / 1000;
const casesPerSecond = Math.round(totals.cases / seconds);

console.log(`codec fuzz: seed ${seed}`);
console.table({ ...totals, seconds: Number(seconds.toFixed(2)), casesPerSecond });

mkdirSync('bench/results', { recursive: true });
const file = `bench/results/codec-fuzz-${new Date().toISOString().replaceAll(':', '-')}.json`;
writeFileSync(
  file,
  JSON.stringify({ seed, ...totals, seconds, casesPerSecond, node: process.version }, null, 2),
);
console.log(`wrote ${file}`);
