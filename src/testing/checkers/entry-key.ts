import type { Entry } from '../../core/types.js';

/** The bytes of a command as a string, so commands can be compared and kept in sets. */
export function commandKey(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/** What an entry holds, without its position: equal exactly for equal contents. */
export function entryContentKey(entry: Entry): string {
  switch (entry.kind) {
    case 'command':
    case 'session':
      return `${entry.kind} ${commandKey(entry.data)}`;
    case 'noop':
      return 'noop';
    case 'configuration':
      return `configuration ${JSON.stringify(entry.configuration)}`;
    case 'settings':
      return `settings ${JSON.stringify(entry.settings)}`;
  }
}

// Entries are immutable and shared between a log, its disk and what was applied, so each is
// rendered once; checking after every step would otherwise spend its time building strings.
const renderedKeys = new WeakMap<Entry, string>();

/** An entry's position and term, then its content: equal exactly for the same entry. */
export function entryKey(entry: Entry): string {
  let key = renderedKeys.get(entry);
  if (key === undefined) {
    key = `${entry.index}/${entry.term} ${entryContentKey(entry)}`;
    renderedKeys.set(entry, key);
  }
  return key;
}
