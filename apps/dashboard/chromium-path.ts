import { existsSync } from 'node:fs';

/**
 * Where Chromium is: `CHROMIUM_PATH`, or Debian's package. The browser tests run whenever it is
 * found (`.ci/run` installs it); null when it is not.
 */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path) => path !== undefined && path !== '' && existsSync(path)) ?? null;
}
