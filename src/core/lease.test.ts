import { describe, expect, it } from 'vitest';
import { CoreCluster } from '../testing/script/core-cluster.js';
import { RaftError } from './errors.js';
import { resolveCoreOptions } from './options.js';
import { drain, makeCore, requestVote } from './raft-core.test-helpers.js';

const encoder = new TextEncoder();

/** Three voters with PreVote and CheckQuorum, server 1 leading with an entry of its term committed. */
function ledBy1(clockDriftBoundTicks?: number): CoreCluster {
  const cluster = new CoreCluster({
    voters: 3,
    core: clockDriftBoundTicks === undefined ? {} : { clockDriftBoundTicks },
  });
  cluster.core('1').campaign();
  cluster.stabilize();
  expect(cluster.core('1').role).toBe('leader');
  return cluster;
}

/** One tick everywhere, then everything that can move moves. */
function tickAll(cluster: CoreCluster): void {
  for (const id of ['1', '2', '3']) cluster.tick(id, 1);
  cluster.stabilize();
}

function newLeader(cluster: CoreCluster): string | null {
  return ['2', '3'].find((id) => cluster.core(id).role === 'leader') ?? null;
}

describe('§6.4.1 leader lease', () => {
  it('a leader cut off from the others stops serving lease reads before a rival can be elected', () => {
    // The defect: the lease held as long as the old leader believed it led, which CheckQuorum
    // ends up to two election timeouts after it last heard from a majority — while the others
    // elect a new leader after one. A lease read on the old leader then missed acknowledged writes.
    const cluster = ledBy1();
    tickAll(cluster);
    const oldLeader = cluster.core('1');
    expect(oldLeader.leaseReadIndex()).toBe(1);

    cluster.isolate('1');
    // Server 3's clock lags one tick behind, so 2 and 3 do not split every vote.
    cluster.tick('1', 1);
    cluster.tick('2', 1);
    cluster.stabilize();
    let overlap = 0;
    for (let tick = 0; tick < 10 * cluster.electionTicks; tick++) {
      tickAll(cluster);
      const rival = newLeader(cluster);
      if (rival === null) continue;
      cluster.core(rival).propose([encoder.encode('add:10')]);
      cluster.stabilize();
      if (oldLeader.role === 'leader') overlap++;
      // "A leader must not serve a lease read once another could have been elected."
      expect(oldLeader.leaseReadIndex()).toBeNull();
    }
    expect(newLeader(cluster)).not.toBeNull();
    // The scenario really has two servers that believe they lead, or it would prove nothing.
    expect(overlap).toBeGreaterThan(0);
  });

  it('is earned by a quorum-acknowledged round, and lasts electionTicks - 1 - drift ticks from its sending', () => {
    const cluster = ledBy1(2);
    const leader = cluster.core('1');
    // Elected, but no heartbeat round has been acknowledged yet.
    expect(leader.leaseReadIndex()).toBeNull();
    tickAll(cluster);
    expect(leader.leaseReadIndex()).toBe(1);

    // Acknowledgements stop arriving: the lease runs out 10 - 1 - 2 = 7 ticks after that round.
    cluster.partition(['1'], ['2', '3']);
    const held: boolean[] = [];
    for (let tick = 0; tick < 8; tick++) {
      cluster.tick('1', 1);
      cluster.stabilize();
      held.push(leader.leaseReadIndex() !== null);
    }
    expect(held).toEqual([true, true, true, true, true, true, false, false]);

    // Once acknowledgements flow again the next round renews it.
    cluster.heal();
    tickAll(cluster);
    expect(leader.leaseReadIndex()).toBe(1);
  });

  it('is refused for the rest of the term once a leadership transfer starts', () => {
    const cluster = ledBy1();
    tickAll(cluster);
    const leader = cluster.core('1');
    expect(leader.leaseReadIndex()).toBe(1);
    // The transfer cannot finish: its target is unreachable.
    cluster.partition(['1'], ['2']);
    leader.transferLeadership('2');
    expect(leader.leaseReadIndex()).toBeNull();
    for (let tick = 0; tick < 2 * cluster.electionTicks; tick++) {
      cluster.tick('1', 1);
      cluster.tick('3', 1);
      cluster.stabilize();
    }
    // The transfer was abandoned, but a late TimeoutNow could still start a rival's campaign.
    expect(leader.role).toBe('leader');
    expect(leader.leaseReadIndex()).toBeNull();
  });

  it('is not offered after the leader steps down', () => {
    const cluster = ledBy1();
    tickAll(cluster);
    cluster.isolate('1');
    for (let tick = 0; tick < 3 * cluster.electionTicks; tick++) tickAll(cluster);
    expect(cluster.core('1').role).not.toBe('leader');
    expect(cluster.core('1').leaseReadIndex()).toBeNull();
  });

  it('rests on restarted servers too: they refuse votes for an election timeout after restart', () => {
    // A follower that acknowledged the leader's round and then restarted forgot it followed
    // anyone; without this it would vote at once and let a rival win inside the lease.
    const follower = makeCore({
      id: '2',
      term: 3,
      log: [1, 3],
      settings: { preVote: true, checkQuorum: true },
      // Its own election timeout is 19 ticks, so it does not campaign within the test.
      options: { random: () => 0.95 },
    });
    const campaign = requestVote({ from: '3', to: '2', term: 4, lastLogIndex: 2, lastLogTerm: 3 });
    follower.step(campaign);
    expect(drain(follower)).toEqual([]);
    expect(follower.status().term).toBe(3);
    for (let tick = 0; tick < 10; tick++) follower.tick();
    follower.step(
      requestVote({ from: '3', to: '2', term: 4, lastLogIndex: 2, lastLogTerm: 3, preVote: true }),
    );
    expect(drain(follower)).toEqual([
      expect.objectContaining({ type: 'request-vote-response', granted: true, preVote: true }),
    ]);
  });

  it('counts the ticks a restarted server spent silent before its core was made', () => {
    const restarted = (silentTicks: number) =>
      makeCore({
        id: '2',
        term: 3,
        log: [1, 3],
        settings: { preVote: true, checkQuorum: true },
        options: { random: () => 0.95, silentTicks },
      });
    const preVote = () =>
      requestVote({ from: '3', to: '2', term: 4, lastLogIndex: 2, lastLogTerm: 3, preVote: true });
    const granted = [
      expect.objectContaining({ type: 'request-vote-response', granted: true, preVote: true }),
    ];
    // Silent for a whole election timeout already: no leader can hold a lease on it.
    const rested = restarted(10);
    rested.step(preVote());
    expect(drain(rested)).toEqual(granted);
    // Silent for 4 of 10 ticks: 6 more to wait, not 10.
    const partly = restarted(4);
    for (let tick = 0; tick < 5; tick++) partly.tick();
    partly.step(preVote());
    expect(drain(partly)).toEqual([]);
    partly.tick();
    partly.step(preVote());
    expect(drain(partly)).toEqual(granted);
  });

  it('counts silent ticks toward its own election timeout, short of a whole timeout', () => {
    const ticksToCampaign = (silentTicks: number) => {
      const core = makeCore({
        id: '2',
        term: 3,
        log: [1, 3],
        settings: { preVote: true, checkQuorum: true },
        // An election timeout of 19 ticks.
        options: { random: () => 0.95, silentTicks },
      });
      for (let tick = 1; tick <= 40; tick++) {
        core.tick();
        if (core.role !== 'follower') return tick;
      }
      return null;
    };
    expect(ticksToCampaign(0)).toBe(19);
    expect(ticksToCampaign(4)).toBe(15);
    // However long it was silent, a random part of the timeout remains.
    expect(ticksToCampaign(50)).toBe(10);
  });

  it('without PreVote, waits a whole election timeout however long it was silent', () => {
    // A real vote request from a server that started a tick ago would depose a leader it had not
    // heard from yet: without PreVote nothing else stops it.
    const core = makeCore({
      id: '2',
      term: 3,
      log: [1, 3],
      settings: { preVote: false, checkQuorum: true },
      options: { random: () => 0.95, silentTicks: 50 },
    });
    let ticks = 0;
    while (core.role === 'follower' && ticks < 40) {
      core.tick();
      ticks++;
    }
    expect(ticks).toBe(19);
    // Its wait before voting still counts the silence.
    core.step(requestVote({ from: '3', to: '2', term: 9, lastLogIndex: 2, lastLogTerm: 3 }));
    expect(drain(core)).toContainEqual(
      expect.objectContaining({ type: 'request-vote-response', granted: true }),
    );
  });

  it('refuses a negative or fractional count of silent ticks', () => {
    for (const silentTicks of [-1, 1.5]) {
      expect(() => makeCore({ id: '2', options: { silentTicks } })).toThrow(/silentTicks/);
    }
  });
});

describe('ReadIndex rounds', () => {
  it('a later acknowledged round confirms an earlier read; a round never sent confirms nothing', () => {
    const cluster = ledBy1();
    const leader = cluster.core('1');
    tickAll(cluster);
    leader.readIndex(7);
    const [toServer2] = leader.ready().messages.filter((message) => message.type === 'heartbeat');
    expect(toServer2).toBeDefined();
    const round = toServer2!.type === 'heartbeat' ? toServer2!.context : 0;
    // A forged answer for a round the leader has not sent yet is ignored.
    leader.step({
      type: 'heartbeat-response',
      term: leader.term,
      from: '2',
      to: '1',
      context: round + 5,
    });
    expect(leader.ready().reads).toEqual([]);
    leader.step({
      type: 'heartbeat-response',
      term: leader.term,
      from: '2',
      to: '1',
      context: round,
    });
    expect(leader.ready().reads).toEqual([{ context: 7, confirmed: true, index: 1 }]);
  });
});

describe('clockDriftBoundTicks', () => {
  it('must be a non-negative integer that leaves a lease of at least one tick', () => {
    const invalid = (electionTicks: number, clockDriftBoundTicks: number): string | undefined => {
      try {
        resolveCoreOptions({ id: '1', electionTicks, clockDriftBoundTicks });
        return undefined;
      } catch (error) {
        return error instanceof RaftError ? error.code : 'other';
      }
    };
    expect(invalid(10, 8)).toBeUndefined();
    expect(invalid(10, 0)).toBeUndefined();
    expect(invalid(10, 9)).toBe('INVALID_CONFIG');
    expect(invalid(10, -1)).toBe('INVALID_CONFIG');
    expect(invalid(10, 1.5)).toBe('INVALID_CONFIG');
    expect(resolveCoreOptions({ id: '1' }).clockDriftBoundTicks).toBe(1);
  });
});
