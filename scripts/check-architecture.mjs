// The house rules that ESLint's import rules cannot say without a plugin: the folder graph of src/
// is a tree with the core at the bottom, nothing outside the core and the test kit reaches past
// core/index.ts, the file graph has no cycles, files stay short, and defaults have one name
// scheme. Run by `npm run lint`.
//
// A plain script, not an ESLint plugin: it needs no dependency, reads each file once, and its
// messages name the whole cycle or the forbidden edge. `knownDebts` lists what the tree still
// breaks; an entry that no longer applies fails the check too, so the list only shrinks.
//
//   node scripts/check-architecture.mjs [root]   (root: the repository; its own by default)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
const source = join(root, 'src');

/** Which top-level folders of src/ each folder may import; everything rests on the core. */
const allowedFolders = {
  core: [],
  // Time and log output, which every adapter and the runtime take from the host.
  platform: [],
  codec: ['core'],
  discovery: ['core', 'platform'],
  storage: ['core', 'codec', 'platform'],
  transport: ['core', 'codec', 'discovery', 'platform'],
  node: ['core', 'codec', 'storage', 'transport', 'platform'],
  testing: ['core', 'codec', 'storage', 'transport', 'discovery', 'node', 'platform'],
};
/** Folders that may import core modules other than core/index.ts. */
const coreInternalsAllowed = new Set(['core', 'testing']);
const linesWarn = 400;
const linesMax = 700;
const linesMaxByFolder = { node: 500 };

/** Edges the tree still has, as "from -> to"; each one is work left, not a permission. */
const knownDebts = new Set([]);

function sourceFiles(directory) {
  const files = [];
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'testdata') files.push(...sourceFiles(path));
    } else if (name.endsWith('.ts')) {
      files.push(path);
    }
  }
  return files;
}

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/g;

function importsOf(file, text) {
  const targets = [];
  for (const match of text.matchAll(importPattern)) {
    const target = resolve(dirname(file), match[1]).replace(/\.js$/, '.ts');
    targets.push(target);
  }
  return targets;
}

const folderOf = (file) => relative(source, file).split('/')[0];
const name = (file) => relative(root, file);
const isTest = (file) => /\.test(-helpers)?\.ts$/.test(file);

const errors = [];
const warnings = [];
const usedDebts = new Set();
const report = (edge, message) => {
  if (knownDebts.has(edge)) usedDebts.add(edge);
  else errors.push(message);
};

const files = sourceFiles(source);
const graph = new Map();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  const folder = folderOf(file);
  const max = linesMaxByFolder[folder] ?? linesMax;
  if (lines > max)
    errors.push(`${name(file)} has ${lines} lines (at most ${max} in src/${folder})`);
  else if (lines > linesWarn)
    warnings.push(`${name(file)} has ${lines} lines (split past ${linesWarn})`);
  const targets = importsOf(file, text).filter((target) => target.startsWith(source));
  graph.set(file, isTest(file) ? [] : targets.filter((target) => !isTest(target)));
  for (const target of targets) {
    const targetFolder = folderOf(target);
    const edge = `${name(file)} -> ${name(target)}`;
    // Tests sit beside the code and may use the test kit and whatever they exercise.
    const allowed = isTest(file) ? undefined : allowedFolders[folder];
    if (allowed !== undefined && targetFolder !== folder && !allowed.includes(targetFolder)) {
      report(edge, `${edge}: src/${folder} may not import src/${targetFolder}`);
    }
    const coreIndex = join(source, 'core', 'index.ts');
    const internalsAllowed = coreInternalsAllowed.has(folder) || isTest(file);
    if (targetFolder === 'core' && target !== coreIndex && !internalsAllowed) {
      report(edge, `${edge}: outside the core and the test kit, import core/index.js only`);
    }
  }
}

// Programs beside the library (benchmarks, examples) use it as a user would: through the package's
// exports, and from an app only what its index.ts offers.
const appIndex = /^apps\/[a-z-]+\/index\.ts$/;
for (const folder of ['bench', 'examples']) {
  const directory = join(root, folder);
  if (!existsSync(directory)) continue;
  for (const file of sourceFiles(directory)) {
    for (const target of importsOf(file, readFileSync(file, 'utf8'))) {
      const inside = !relative(directory, target).startsWith('..');
      if (!inside && !appIndex.test(name(target))) {
        errors.push(
          `${name(file)} -> ${name(target)}: ${folder}/ imports the package by name ('raftkit/...') and apps through their index.ts`,
        );
      }
    }
  }
}

// Defaults have one name scheme: a frozen `<thing>Defaults` object per options type
// (`fileStorageDefaults.segmentBytesMax`), never a loose `defaultSegmentBytesMax` beside it.
const looseDefault = /^export\s+const\s+(default[A-Z]\w*)/gm;
for (const folder of ['src', 'apps', 'bench', 'examples']) {
  const directory = join(root, folder);
  if (!existsSync(directory)) continue;
  for (const file of sourceFiles(directory)) {
    for (const [, constant] of readFileSync(file, 'utf8').matchAll(looseDefault)) {
      errors.push(
        `${name(file)} exports ${constant}: name defaults <thing>Defaults, one frozen object per options type`,
      );
    }
  }
}

// Tarjan's strongly connected components: every component with more than one file is a cycle.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
function visit(file) {
  index.set(file, counter);
  low.set(file, counter);
  counter++;
  stack.push(file);
  onStack.add(file);
  for (const target of graph.get(file) ?? []) {
    if (!graph.has(target)) continue;
    if (!index.has(target)) {
      visit(target);
      low.set(file, Math.min(low.get(file), low.get(target)));
    } else if (onStack.has(target)) {
      low.set(file, Math.min(low.get(file), index.get(target)));
    }
  }
  if (low.get(file) !== index.get(file)) return;
  const component = [];
  let member;
  do {
    member = stack.pop();
    onStack.delete(member);
    component.push(member);
  } while (member !== file);
  if (component.length > 1) {
    const cycle = component.map(name).sort().join(' <-> ');
    const folders = [...new Set(component.map(folderOf))].join(' ');
    report(`cycle in src/${folders}`, `import cycle: ${cycle}`);
  }
}
for (const file of graph.keys()) if (!index.has(file)) visit(file);

for (const debt of knownDebts) {
  if (!usedDebts.has(debt)) errors.push(`known debt no longer applies, remove it: ${debt}`);
}
for (const warning of warnings) console.warn(`warning: ${warning}`);
for (const error of errors) console.error(`error: ${error}`);
if (errors.length > 0) process.exit(1);
