import { invariant } from '../../core/errors.js';

/** A call or return event of one operation, linked into the time-ordered list the search walks. */
export interface Entry {
  /** Index of the operation in the partition being checked. */
  readonly operationIndex: number;
  readonly isCall: boolean;
  readonly time: number;
  /** For a call: the return entry of the same operation. */
  match: Entry | null;
  previous: Entry | null;
  next: Entry | null;
}

/** Call and return times of one operation; a pending operation has no return time. */
export interface EntryInterval {
  readonly callTime: number;
  readonly returnTime: number | null;
}

function compareEntries(left: Entry, right: Entry): number {
  if (left.time !== right.time) return left.time < right.time ? -1 : 1;
  // Calls before returns at equal times: touching intervals count as concurrent, which can only
  // accept more histories, never reject a correct one because of coarse timestamps.
  if (left.isCall !== right.isCall) return left.isCall ? -1 : 1;
  return left.operationIndex - right.operationIndex;
}

/**
 * The doubly linked list of call and return entries, ordered by time, from which the search lifts
 * an operation (both its entries) when it linearizes it and puts it back on backtracking. Removed
 * entries keep their own links, so putting back in reverse order of removal restores the list.
 */
export class EntryList {
  readonly #head: Entry = {
    operationIndex: -1,
    isCall: false,
    time: -Infinity,
    match: null,
    previous: null,
    next: null,
  };

  /**
   * Builds the list for operations given by their intervals. Pending operations return at
   * infinity: they may take effect after everything else, or never.
   */
  constructor(intervals: readonly EntryInterval[]) {
    const entries: Entry[] = [];
    intervals.forEach((interval, operationIndex) => {
      const returnTime = interval.returnTime ?? Infinity;
      invariant(returnTime >= interval.callTime, 'an operation returns no earlier than its call');
      const returnEntry: Entry = {
        operationIndex,
        isCall: false,
        time: returnTime,
        match: null,
        previous: null,
        next: null,
      };
      const callEntry: Entry = { ...returnEntry, isCall: true, time: interval.callTime };
      callEntry.match = returnEntry;
      entries.push(callEntry, returnEntry);
    });
    entries.sort(compareEntries);
    let previous = this.#head;
    for (const entry of entries) {
      entry.previous = previous;
      previous.next = entry;
      previous = entry;
    }
  }

  /** The earliest entry still in the list, or null when every operation has been lifted. */
  first(): Entry | null {
    return this.#head.next;
  }

  /** Removes an operation's call and return entries. */
  lift(call: Entry): void {
    invariant(call.isCall && call.match !== null, 'only a call entry can be lifted');
    EntryList.#unlink(call);
    EntryList.#unlink(call.match);
  }

  /** Puts back the entries of the operation lifted most recently (last in, first out). */
  unlift(call: Entry): void {
    invariant(call.isCall && call.match !== null, 'only a call entry can be put back');
    EntryList.#relink(call.match);
    EntryList.#relink(call);
  }

  static #unlink(entry: Entry): void {
    invariant(entry.previous !== null, 'a linked entry has a predecessor');
    entry.previous.next = entry.next;
    if (entry.next !== null) entry.next.previous = entry.previous;
  }

  static #relink(entry: Entry): void {
    invariant(entry.previous !== null, 'a lifted entry remembers its predecessor');
    entry.previous.next = entry;
    if (entry.next !== null) entry.next.previous = entry;
  }
}
