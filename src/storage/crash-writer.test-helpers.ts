import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Writer processes for the crash tests. Starting Node with the TypeScript loader takes most of a
 * second (several on a loaded machine), so the next writer is started while the previous one is
 * still working: it loads, reports `loaded`, and waits for `go` on stdin before it touches the
 * storage. The tests then spend their time killing writers, not waiting for them to boot.
 */

/** Longest a writer may take to load or to open its storage before the test gives up. */
const writerStartTimeoutMs = 60_000;

/** In the writer: waits until the test says go. */
export async function waitForGo(): Promise<void> {
  process.stdout.write('loaded\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'go') break;
  }
  lines.close();
}

/** One writer process, seen from the test. */
export class CrashWriter {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #loaded: Promise<void>;
  readonly #exited: Promise<void>;
  readonly #outputDone: Promise<void>;
  #ready: (() => void) | null = null;
  #errors = '';

  /**
   * Starts `node --conditions=raftkit-source --import tsx script ...args`. Lines the writer prints
   * after `ready` go to `onLine`.
   */
  constructor(script: string, args: readonly string[], onLine: (line: string) => void) {
    this.#child = spawn(
      process.execPath,
      ['--conditions=raftkit-source', '--import', 'tsx', script, ...args],
      { stdio: 'pipe' },
    );
    this.#child.stderr.on('data', (chunk: Buffer) => (this.#errors += chunk.toString()));
    const lines = createInterface({ input: this.#child.stdout });
    this.#outputDone = new Promise((resolve) => lines.once('close', () => resolve()));
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    let markLoaded = (): void => undefined;
    this.#loaded = this.#deadline('load', new Promise((resolve) => (markLoaded = resolve)));
    // A writer killed before anyone waits for it to load must not surface as an unhandled error.
    this.#loaded.catch(() => undefined);
    lines.on('line', (line) => {
      if (line === 'loaded') markLoaded();
      else if (line.startsWith('ready')) this.#ready?.();
      else onLine(line);
    });
  }

  /** Lets the loaded writer open its storage, and resolves once it has. */
  async go(): Promise<void> {
    await this.#loaded;
    const ready = new Promise<void>((resolve) => (this.#ready = resolve));
    this.#child.stdin.write('go\n');
    await this.#deadline('open its storage', ready);
  }

  /** Kills the writer with SIGKILL and waits until its output is drained. */
  async kill(): Promise<void> {
    this.#child.kill('SIGKILL');
    await this.#exited;
    await this.#outputDone;
  }

  #deadline(what: string, promise: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`writer did not ${what}: ${this.#errors}`)),
        writerStartTimeoutMs,
      );
      void this.#exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`writer exited before it could ${what}: ${this.#errors}`));
      });
      void promise.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
