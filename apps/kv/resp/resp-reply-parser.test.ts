import { describe, expect, it } from 'vitest';
import { RespReplyParser, type RespValue } from './resp-reply-parser.js';
import {
  arrayReply,
  bulkReply,
  errorReply,
  integerReply,
  nullReply,
  okReply,
} from './resp-writer.js';

describe('RespReplyParser', () => {
  const replies = Buffer.concat([
    okReply,
    errorReply('ERR bad\r\nthing'),
    integerReply(-(2n ** 63n)),
    bulkReply(Buffer.from('a\r\nb')),
    nullReply,
    arrayReply([bulkReply('x'), arrayReply([integerReply(1)]), nullReply]),
  ]);
  const expected: RespValue[] = [
    { type: 'simple', value: 'OK' },
    { type: 'error', message: 'ERR bad thing' },
    { type: 'integer', value: -(2n ** 63n) },
    { type: 'bulk', value: Buffer.from('a\r\nb') },
    { type: 'bulk', value: null },
    {
      type: 'array',
      value: [
        { type: 'bulk', value: Buffer.from('x') },
        { type: 'array', value: [{ type: 'integer', value: 1n }] },
        { type: 'bulk', value: null },
      ],
    },
  ];

  it('decodes what the writer encodes, split at every byte boundary', () => {
    for (let cut = 0; cut <= replies.length; cut++) {
      const parser = new RespReplyParser();
      const values = [
        ...parser.push(replies.subarray(0, cut)),
        ...parser.push(replies.subarray(cut)),
      ];
      expect(values).toEqual(expected);
    }
  });

  it('rejects unknown reply types and nesting beyond the limit', () => {
    expect(() => new RespReplyParser().push(Buffer.from('!x\r\n'))).toThrow(/unexpected reply/);
    expect(() =>
      new RespReplyParser({ depthMax: 2 }).push(Buffer.from('*1\r\n*1\r\n*1\r\n')),
    ).toThrow(/nested/);
  });
});
