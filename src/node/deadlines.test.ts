import { describe, expect, it } from 'vitest';
import type { Clock } from '../platform/clock.js';
import { Deadlines, type DeadlineOwner } from './deadlines.js';
import { SimulatedClock } from './simulated-clock.js';

function owner(name: string, log: string[]): DeadlineOwner {
  return { expire: () => log.push(`${name}@${clock.now()}`) };
}

let clock = new SimulatedClock();

describe('Deadlines', () => {
  it('expires each owner at its deadline, earliest first, on one timer', () => {
    clock = new SimulatedClock();
    const deadlines = new Deadlines(clock);
    const log: string[] = [];
    deadlines.add(owner('early', log), 10);
    deadlines.add(owner('late', log), 30);
    deadlines.add(owner('also-early', log), 10);
    expect(clock.pendingCount).toBe(1);
    clock.advance(9);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['early@10', 'also-early@10']);
    clock.advance(100);
    expect(log).toEqual(['early@10', 'also-early@10', 'late@30']);
    expect(deadlines.size).toBe(0);
    expect(clock.pendingCount).toBe(0);
  });

  it('never expires an owner removed before its deadline', () => {
    clock = new SimulatedClock();
    const deadlines = new Deadlines(clock);
    const log: string[] = [];
    const gone = owner('gone', log);
    const key = deadlines.add(gone, 5);
    deadlines.add(owner('kept', log), 20);
    deadlines.remove(gone, key);
    clock.advance(100);
    expect(log).toEqual(['kept@20']);
    expect(deadlines.size).toBe(0);
  });

  it('expires only the owners of a shared millisecond that were not removed, whatever the order', () => {
    clock = new SimulatedClock();
    const deadlines = new Deadlines(clock);
    const log: string[] = [];
    const owners = ['a', 'b', 'c', 'd', 'e'].map((name) => owner(name, log));
    const keys = owners.map((each) => deadlines.add(each, 10));
    for (const position of [3, 0, 1]) deadlines.remove(owners[position]!, keys[position]!);
    deadlines.remove(owners[0]!, keys[0]!); // a second removal changes nothing
    expect(deadlines.size).toBe(2);
    clock.advance(10);
    expect(log).toEqual(['c@10', 'e@10']);
    expect(deadlines.size).toBe(0);
  });

  it('leaves no timer behind once every owner is gone, so a stopped node lets its process exit', () => {
    clock = new SimulatedClock();
    const deadlines = new Deadlines(clock);
    const log: string[] = [];
    const first = owner('first', log);
    const second = owner('second', log);
    const firstKey = deadlines.add(first, 10_000);
    const secondKey = deadlines.add(second, 5_000);
    deadlines.remove(first, firstKey);
    deadlines.remove(second, secondKey);
    expect(clock.pendingCount).toBe(0);
    expect(deadlines.size).toBe(0);
    deadlines.add(owner('later', log), 10);
    clock.advance(10);
    expect(log).toEqual(['later@10']);
  });

  it('keeps its timer armed between requests, keeping the process alive only while one waits', () => {
    clock = new SimulatedClock();
    const calls: string[] = [];
    // A clock whose timers can stop keeping a process alive, as the real one's can.
    const processClock: Clock = {
      now: () => clock.now(),
      schedule(delayMs, callback) {
        calls.push(`schedule ${delayMs}`);
        const timer = clock.schedule(delayMs, callback);
        return {
          cancel: () => {
            calls.push('cancel');
            timer.cancel();
          },
          keepAlive: (keep) => calls.push(`keepAlive ${keep}`),
        };
      },
    };
    const deadlines = new Deadlines(processClock);
    const log: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const request = owner(name, log);
      deadlines.remove(request, deadlines.add(request, 1000));
      clock.advance(1);
    }
    expect(calls).toEqual([
      'schedule 1000',
      'keepAlive false',
      'keepAlive true',
      'keepAlive false',
      'keepAlive true',
      'keepAlive false',
    ]);
    deadlines.add(owner('late', log), 1000);
    clock.advance(1000);
    expect(log).toEqual(['late@1003']);
    expect(deadlines.size).toBe(0);
  });

  it('rounds a fractional deadline up, so no owner expires early', () => {
    clock = new SimulatedClock(0.25);
    const deadlines = new Deadlines(clock);
    const log: string[] = [];
    deadlines.add(owner('a', log), 10);
    clock.advance(9.75);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(['a@11']);
  });

  it('takes deadlines added while expiring others', () => {
    clock = new SimulatedClock();
    const deadlines = new Deadlines(clock);
    const log: string[] = [];
    deadlines.add({ expire: () => deadlines.add(owner('next', log), 5) }, 5);
    clock.advance(20);
    expect(log).toEqual(['next@10']);
  });
});
