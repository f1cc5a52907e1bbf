import { RaftNode, rejectCommand, type RaftError, type StateMachine } from 'raftkit';
import { MemoryStorage } from 'raftkit/storage/memory';
import { InProcessNetwork } from 'raftkit/transport/in-process';

// The replicated state: every server applies the same commands in the same order.
class Counter implements StateMachine<number, 'value', number> {
  value = 0;
  apply(command: Uint8Array) {
    const amount = Number(new TextDecoder().decode(command));
    // Refusing is decided from the command and the state alone, so every server refuses alike
    // and keeps running. Throwing would instead stop the server: its state may have diverged.
    if (this.value + amount < 0) return rejectCommand('BELOW_ZERO', `value is ${this.value}`);
    this.value += amount;
    return this.value;
  }
  query(): number {
    return this.value;
  }
}

const network = new InProcessNetwork(); // swap for TcpTransport across machines
const ids = ['a', 'b', 'c'];
const nodes = ids.map(
  (id) =>
    new RaftNode({
      id,
      storage: new MemoryStorage(), // or FileStorage / SqliteStorage
      transport: network.transport(),
      stateMachine: new Counter(),
      initialConfiguration: ids,
      forwardProposals: true, // followers pass writes to the leader
    }),
);
await Promise.all(nodes.map((node) => node.start()));
await Promise.all(nodes.map((node) => node.waitForLeader()));

const add = (node: (typeof nodes)[number], amount: number) =>
  node.propose(new TextEncoder().encode(String(amount)));
console.log(await add(nodes[0]!, 5)); // 5, whichever node leads
console.log(await add(nodes[2]!, 3)); // 8
console.log(await add(nodes[1]!, -20).catch((error: RaftError) => error.code)); // COMMAND_REJECTED
console.log(await nodes[1]!.read('value')); // 8: linearizable, from any node
await Promise.all(nodes.map((node) => node.stop()));
