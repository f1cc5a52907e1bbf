import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CoreCluster } from '../testing/script/core-cluster.js';
import { runScriptCommand } from '../testing/script/script-commands.js';
import { runScriptFile } from '../testing/script/script-runner.js';

const directory = fileURLToPath(new URL('./testdata/', import.meta.url));
const scripts = readdirSync(directory).filter((name) => name.endsWith('.txt'));

describe('interaction scripts (src/core/testdata)', () => {
  it('finds the scripts', () => {
    expect(scripts.length).toBeGreaterThan(5);
  });

  for (const name of scripts) {
    it(name, () => {
      let cluster: CoreCluster | null = null;
      const { cases, actual } = runScriptFile(join(directory, name), (command) => {
        const result = runScriptCommand(cluster, command);
        cluster = result.cluster;
        return result.output;
      });
      cases.forEach((scriptCase, position) => {
        expect(actual[position], `${name}:${scriptCase.line} ${scriptCase.command}`).toBe(
          scriptCase.expected,
        );
      });
    });
  }
});
