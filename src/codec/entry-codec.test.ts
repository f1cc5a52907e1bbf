import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftError } from '../core/index.js';
import { configurationOf } from '../core/index.js';
import { BinaryReader, BinaryWriter } from './binary.js';
import {
  clusterSettings,
  configuration,
  entry,
  hardState,
  snapshotMeta,
} from './arbitraries.test-helpers.js';
import {
  entryCodecDefaults,
  readClusterSettings,
  readConfiguration,
  readEntry,
  readHardState,
  readSnapshotMeta,
  writeClusterSettings,
  writeConfiguration,
  writeEntry,
  writeHardState,
  writeSnapshotMeta,
} from './entry-codec.js';

function roundTrip<T>(
  value: T,
  write: (writer: BinaryWriter, value: T) => void,
  read: (reader: BinaryReader) => T,
): T {
  const writer = new BinaryWriter();
  write(writer, value);
  const reader = new BinaryReader(writer.finish());
  const decoded = read(reader);
  reader.end();
  return decoded;
}

function encode<T>(value: T, write: (writer: BinaryWriter, value: T) => void): Uint8Array {
  const writer = new BinaryWriter();
  write(writer, value);
  return writer.finish().slice();
}

function expectInvalid(read: () => unknown): void {
  expect(read).toThrow(RaftError);
  try {
    read();
  } catch (error) {
    expect((error as RaftError).code).toBe('INVALID_MESSAGE');
  }
}

describe('entry codec', () => {
  it('round-trips entries of every kind', () => {
    fc.assert(
      fc.property(entry, (value) => {
        expect(roundTrip(value, writeEntry, (reader) => readEntry(reader))).toEqual(value);
      }),
    );
  });

  it('round-trips configurations, settings, hard states and snapshot markers', () => {
    fc.assert(
      fc.property(configuration, clusterSettings, hardState, snapshotMeta, (a, b, c, d) => {
        expect(roundTrip(a, writeConfiguration, (r) => readConfiguration(r))).toEqual(a);
        expect(roundTrip(b, writeClusterSettings, readClusterSettings)).toEqual(b);
        expect(roundTrip(c, writeHardState, (r) => readHardState(r))).toEqual(c);
        expect(roundTrip(d, writeSnapshotMeta, (r) => readSnapshotMeta(r))).toEqual(d);
      }),
    );
  });

  it('round-trips many entries written back to back', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
        const writer = new BinaryWriter();
        for (const value of entries) writeEntry(writer, value);
        const reader = new BinaryReader(writer.finish());
        const decoded = entries.map(() => readEntry(reader));
        reader.end();
        expect(decoded).toEqual(entries);
      }),
    );
  });

  it('rejects every strict prefix of an encoding as truncated', () => {
    fc.assert(
      fc.property(entry, (value) => {
        const bytes = encode(value, writeEntry);
        for (let length = 0; length < bytes.length; length++) {
          expectInvalid(() => readEntry(new BinaryReader(bytes.subarray(0, length))));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('rejects an unknown entry kind', () => {
    const bytes = encode({ kind: 'noop', index: 1, term: 1 }, writeEntry);
    bytes[0] = 99;
    expectInvalid(() => readEntry(new BinaryReader(bytes)));
    expectInvalid(() =>
      writeEntry(new BinaryWriter(), { kind: 'mystery', index: 1, term: 1 } as never),
    );
  });

  it('rejects index and term values beyond the safe integer range', () => {
    const bytes = encode({ kind: 'noop', index: 1, term: 1 }, writeEntry);
    bytes[8] = 0xff; // high byte of the index
    expectInvalid(() => readEntry(new BinaryReader(bytes)));
    expectInvalid(() => writeEntry(new BinaryWriter(), { kind: 'noop', index: -1, term: 1 }));
  });

  it('enforces the command, member-count and id-length limits', () => {
    const limits = {
      ...entryCodecDefaults,
      commandBytesMax: 3,
      membersMax: 2,
      nodeIdBytesMax: 2,
    };
    const command = encode(
      { kind: 'command', index: 1, term: 1, data: new Uint8Array(4) },
      writeEntry,
    );
    expectInvalid(() => readEntry(new BinaryReader(command), limits));
    const threeVoters = encode(configurationOf(['a', 'b', 'c']), writeConfiguration);
    expectInvalid(() => readConfiguration(new BinaryReader(threeVoters), limits));
    const longId = encode(configurationOf(['abc']), writeConfiguration);
    expectInvalid(() => readConfiguration(new BinaryReader(longId), limits));
    const fits = encode(configurationOf(['ab', 'c']), writeConfiguration);
    expect(readConfiguration(new BinaryReader(fits), limits).voters).toEqual(['ab', 'c']);
  });

  it('rejects an address listed twice', () => {
    const writer = new BinaryWriter();
    writer.u32(0).u32(0).u32(0).u32(2).string('a').string('x').string('a').string('y');
    expectInvalid(() => readConfiguration(new BinaryReader(writer.finish())));
  });

  it('keeps "__proto__" as a plain address key', () => {
    const writer = new BinaryWriter();
    writer.u32(0).u32(0).u32(0).u32(1).string('__proto__').string('host:1');
    const decoded = readConfiguration(new BinaryReader(writer.finish()));
    expect(Object.getPrototypeOf(decoded.addresses)).toBe(Object.prototype);
    expect(Object.keys(decoded.addresses)).toEqual(['__proto__']);
  });

  it('rejects a settings byte other than 0 or 1', () => {
    expectInvalid(() => readClusterSettings(new BinaryReader(new Uint8Array([1, 2]))));
  });

  it('decodes command data as a view of the input', () => {
    const bytes = encode(
      { kind: 'command', index: 1, term: 1, data: new Uint8Array([5]) },
      writeEntry,
    );
    const decoded = readEntry(new BinaryReader(bytes));
    expect(decoded.kind === 'command' && decoded.data.buffer).toBe(bytes.buffer);
  });
});
