import type { KeyspaceImage, KvEntry, KvValue } from './keyspace.js';

/** Bytes per chunk of a serialized keyspace. */
export const keyspaceChunkBytes = 1024 * 1024;

type EncodedValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'hash'; readonly fields: readonly (readonly [string, string])[] }
  | { readonly type: 'set'; readonly members: readonly string[] };

interface EncodedEntry {
  readonly value: EncodedValue;
  readonly expiresAtMs: number | null;
  readonly modifiedIndex: number;
}

interface EncodedImage {
  readonly version: number;
  readonly timeMs: number;
  readonly index: number;
  readonly entries: readonly (readonly [string, EncodedEntry])[];
  readonly tombstones: readonly (readonly [string, number])[];
  readonly tombstoneFloorIndex: number;
}

function encodeValue(value: KvValue): EncodedValue {
  switch (value.type) {
    case 'string':
      return { type: 'string', value: value.value.toString('base64') };
    case 'hash':
      return {
        type: 'hash',
        fields: [...value.fields].map(([field, bytes]) => [field, bytes.toString('base64')]),
      };
    case 'set':
      return { type: 'set', members: [...value.members] };
  }
}

function decodeValue(value: EncodedValue): KvValue {
  switch (value.type) {
    case 'string':
      return { type: 'string', value: Buffer.from(value.value, 'base64') };
    case 'hash':
      return {
        type: 'hash',
        fields: new Map(
          value.fields.map(([field, bytes]) => [field, Buffer.from(bytes, 'base64')]),
        ),
      };
    case 'set':
      return { type: 'set', members: new Set(value.members) };
  }
}

/**
 * Serializes a keyspace image at once (the image shares live values, so it must be copied before
 * the next entry applies) and returns it in chunks. Expiry deadlines, the replicated clock and
 * every key's last-modified index travel as they are, so a restored server expires the same keys
 * at the same point of the log and reaches the same WATCH verdicts.
 */
export function encodeKeyspaceImage(image: KeyspaceImage): Uint8Array[] {
  const encoded: EncodedImage = {
    version: 1,
    timeMs: image.timeMs,
    index: image.index,
    entries: image.entries.map(([key, entry]) => [
      key,
      {
        value: encodeValue(entry.value),
        expiresAtMs: entry.expiresAtMs,
        modifiedIndex: entry.modifiedIndex,
      },
    ]),
    tombstones: image.tombstones,
    tombstoneFloorIndex: image.tombstoneFloorIndex,
  };
  const bytes = Buffer.from(JSON.stringify(encoded), 'utf8');
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += keyspaceChunkBytes) {
    chunks.push(bytes.subarray(offset, offset + keyspaceChunkBytes));
  }
  return chunks;
}

/** Reads what {@link encodeKeyspaceImage} wrote; throws on anything else. */
export async function decodeKeyspaceImage(
  chunks: AsyncIterable<Uint8Array>,
): Promise<KeyspaceImage> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  const encoded = JSON.parse(Buffer.concat(parts).toString('utf8')) as EncodedImage;
  if (encoded.version !== 1)
    throw new Error(`unknown keyspace snapshot version ${encoded.version}`);
  return {
    timeMs: encoded.timeMs,
    index: encoded.index,
    entries: encoded.entries.map(([key, entry]): [string, KvEntry] => [
      key,
      {
        value: decodeValue(entry.value),
        expiresAtMs: entry.expiresAtMs,
        modifiedIndex: entry.modifiedIndex,
      },
    ]),
    tombstones: encoded.tombstones,
    tombstoneFloorIndex: encoded.tombstoneFloorIndex,
  };
}
