import { describe, expect, it } from 'vitest';
import { RespProtocolError } from './resp-protocol-error.js';
import { splitReplies } from './reply-boundaries.js';
import * as reply from './resp-writer.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

describe('splitReplies', () => {
  it('cuts concatenated replies of every kind into groups of the given sizes', () => {
    const transaction = reply.arrayReply([
      reply.okReply,
      reply.arrayReply([reply.integerReply(1), reply.nullReply]),
    ]);
    const parts = [
      [reply.okReply],
      [reply.integerReply(-7), reply.bulkReply('a\r\nb'), reply.errorReply('ERR no')],
      [reply.nullReply, transaction, Buffer.from('*-1\r\n', 'latin1')],
    ];
    const groups = splitReplies(
      Buffer.concat(parts.flat()),
      parts.map((part) => part.length),
    );
    expect(groups.map(text)).toEqual(parts.map((part) => text(Buffer.concat(part))));
  });

  it('refuses bytes that hold fewer or more replies than asked for', () => {
    const two = Buffer.concat([reply.okReply, reply.integerReply(2)]);
    expect(() => splitReplies(two, [1, 2])).toThrow(RespProtocolError);
    expect(() => splitReplies(two, [1])).toThrow(RespProtocolError);
    expect(() => splitReplies(Buffer.from('$5\r\nab\r\n', 'latin1'), [1])).toThrow(
      RespProtocolError,
    );
    expect(() => splitReplies(Buffer.from('?x\r\n', 'latin1'), [1])).toThrow(RespProtocolError);
  });
});
