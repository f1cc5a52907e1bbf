import { createSocket, type Socket } from 'node:dgram';

/** Records the test server answers with, by lower-case name. */
export interface DnsZone {
  srv: Map<string, { priority: number; weight: number; port: number; target: string }[]>;
  a: Map<string, string[]>;
  aaaa: Map<string, string[]>;
}

const typeA = 1;
const typeAaaa = 28;
const typeSrv = 33;
const classInternet = 1;
const headerBytes = 12;

function encodeName(name: string): Buffer {
  const labels = name.split('.').filter((label) => label.length > 0);
  return Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])),
    Buffer.from([0]),
  ]);
}

/** Reads the question's name; the query's labels are never compressed. */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | null {
  const labels: string[] = [];
  let offset = headerBytes;
  for (let count = 0; count < 128; count++) {
    const length = query[offset];
    if (length === undefined || length > 63) return null;
    offset++;
    if (length === 0) {
      if (offset + 4 > query.length) return null;
      return {
        name: labels.join('.').toLowerCase(),
        type: query.readUInt16BE(offset),
        end: offset + 4,
      };
    }
    labels.push(query.toString('latin1', offset, offset + length));
    offset += length;
  }
  return null;
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

function answerData(zone: DnsZone, name: string, type: number): Buffer[] {
  if (type === typeSrv) {
    return (zone.srv.get(name) ?? []).map((record) => {
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(record.priority, 0);
      fixed.writeUInt16BE(record.weight, 2);
      fixed.writeUInt16BE(record.port, 4);
      return Buffer.concat([fixed, encodeName(record.target)]);
    });
  }
  if (type === typeA) {
    return (zone.a.get(name) ?? []).map((ip) => Buffer.from(ip.split('.').map(Number)));
  }
  if (type === typeAaaa) return (zone.aaaa.get(name) ?? []).map(ipv6Bytes);
  return [];
}

/** Builds the response: the query's header and question, then one answer per record. */
function respond(zone: DnsZone, query: Buffer): Buffer | null {
  if (query.length < headerBytes) return null;
  const question = readQuestion(query);
  if (question === null) return null;
  const { name, type, end } = question;
  const known = zone.srv.has(name) || zone.a.has(name) || zone.aaaa.has(name);
  const answers = answerData(zone, name, type);
  const header = Buffer.alloc(headerBytes);
  query.copy(header, 0, 0, 2);
  // Response, authoritative, recursion desired and available; NXDOMAIN for unknown names.
  header.writeUInt16BE(0x8580 | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((data) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc000 | headerBytes, 0);
    fixed.writeUInt16BE(type, 2);
    fixed.writeUInt16BE(classInternet, 4);
    fixed.writeUInt32BE(5, 6);
    fixed.writeUInt16BE(data.length, 10);
    return Buffer.concat([fixed, data]);
  });
  return Buffer.concat([header, query.subarray(headerBytes, end), ...records]);
}

/** A tiny authoritative DNS server on 127.0.0.1 answering SRV, A and AAAA from `zone`. */
export class DnsTestServer {
  readonly zone: DnsZone = { srv: new Map(), a: new Map(), aaaa: new Map() };
  /** Queries answered, by type name. */
  readonly queries: string[] = [];
  readonly #socket: Socket = createSocket('udp4');

  /** Starts listening on an ephemeral port; returns `127.0.0.1:port` for a resolver. */
  async start(): Promise<string> {
    this.#socket.on('message', (query, remote) => {
      const question = readQuestion(query);
      if (question !== null) this.queries.push(`${question.type}:${question.name}`);
      const response = respond(this.zone, query);
      if (response !== null) this.#socket.send(response, remote.port, remote.address);
    });
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
    return `127.0.0.1:${this.#socket.address().port}`;
  }

  /** Closes the socket. */
  stop(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
