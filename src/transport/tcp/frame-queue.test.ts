import { describe, expect, it } from 'vitest';
import { FrameQueue } from './frame-queue.js';

const frame = (size: number, mark = 0) => new Uint8Array(size).fill(mark);

describe('FrameQueue', () => {
  it('keeps order and drops the oldest frames when the count limit is reached', () => {
    const queue = new FrameQueue({ messagesMax: 3, bytesMax: 1000 });
    const dropped = [1, 2, 3, 4, 5].map((mark) => queue.push(frame(1, mark)));
    expect(dropped).toEqual([0, 0, 0, 1, 1]);
    expect([queue.shift()![0], queue.shift()![0], queue.shift()![0]]).toEqual([3, 4, 5]);
    expect(queue.shift()).toBeUndefined();
    expect(queue.bytes).toBe(0);
  });

  it('drops as many old frames as a large new one needs', () => {
    const queue = new FrameQueue({ messagesMax: 100, bytesMax: 10 });
    queue.push(frame(4, 1));
    queue.push(frame(4, 2));
    expect(queue.push(frame(8, 3))).toBe(2);
    expect(queue.length).toBe(1);
    expect(queue.bytes).toBe(8);
    expect(queue.push(frame(11))).toBe(1);
    expect(queue.length).toBe(1);
  });

  it('stays correct across many pushes and shifts', () => {
    const queue = new FrameQueue({ messagesMax: 5000, bytesMax: 1_000_000 });
    let next = 0;
    const shifted: number[] = [];
    for (let round = 0; round < 20; round++) {
      for (let count = 0; count < 300; count++) queue.push(frame(1, next++ % 256));
      for (let count = 0; count < 250; count++) shifted.push(queue.shift()![0]!);
    }
    expect(shifted).toEqual(Array.from({ length: 5000 }, (_, index) => index % 256));
    expect(queue.length).toBe(1000);
    expect(queue.clear()).toBe(1000);
    expect(queue.length).toBe(0);
  });
});
