import { waitForGo } from '../crash-writer.test-helpers.js';
import { bootstrapSnapshot, configurationOf, type Entry } from '../../core/index.js';
import { workloadData, workloadSegmentBytesMax } from './crash-workload.test-helpers.js';
import { FileStorage } from './file-storage.js';

/**
 * A process that writes the crash workload to a FileStorage directory until it is killed,
 * printing one line per call whose promise resolved:
 *
 * - `ready <lastIndex>` once open,
 * - `begin <firstIndex>` before each save,
 * - `ack <firstIndex> <lastIndex> <term>` once a save resolved,
 * - `compacted <index>` once a compaction resolved.
 *
 * Every few rounds it rewrites the last entries in a new term (a follower replacing a conflicting
 * suffix) or compacts, so crashes land in those paths too.
 */

const batchEntriesMax = 40;

function line(text: string): void {
  // Writes to a pipe are synchronous on Linux, so a printed line was printed before any kill.
  process.stdout.write(`${text}\n`);
}

async function lastTerm(storage: FileStorage, lastIndex: number, snapshotTerm: number) {
  if (lastIndex === 0) return 1;
  const [last] = await storage.entries(lastIndex, lastIndex + 1).catch(() => []);
  return last?.term ?? snapshotTerm;
}

async function main(directory: string): Promise<void> {
  await waitForGo();
  const storage = new FileStorage({ directory, segmentBytesMax: workloadSegmentBytesMax });
  let state = await storage.open();
  if (state === null) {
    await storage.bootstrap(bootstrapSnapshot(configurationOf(['solo'])), {
      term: 1,
      vote: 'solo',
      commit: 0,
    });
    state = await storage.open();
  }
  let lastIndex = state?.lastIndex ?? 0;
  let snapshotIndex = state?.snapshot.index ?? 0;
  let term = Math.max(
    state?.hardState.term ?? 1,
    await lastTerm(storage, lastIndex, state?.snapshot.term ?? 1),
  );
  line(`ready ${lastIndex}`);
  for (let round = 1; ; round++) {
    if (round % 17 === 0 && lastIndex - 50 > snapshotIndex) {
      snapshotIndex = lastIndex - 50;
      const [entry] = await storage.entries(snapshotIndex, snapshotIndex + 1);
      await storage.compact({
        ...bootstrapSnapshot(configurationOf(['solo'])),
        index: snapshotIndex,
        term: entry?.term ?? term,
      });
      line(`compacted ${snapshotIndex}`);
    }
    const rewrite = round % 7 === 0 && lastIndex - 5 > snapshotIndex;
    if (rewrite) term++;
    const first = rewrite ? lastIndex - 4 : lastIndex + 1;
    const size = 1 + ((round * 13) % batchEntriesMax);
    const entries: Entry[] = [];
    for (let index = first; index < first + size; index++) {
      entries.push({ kind: 'command', index, term, data: workloadData(index, term) });
    }
    line(`begin ${first}`);
    await storage.save({ entries, hardState: { term, vote: 'solo', commit: snapshotIndex } });
    lastIndex = first + size - 1;
    line(`ack ${first} ${lastIndex} ${term}`);
  }
}

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: file-crash-child <directory>');
await main(directory);
