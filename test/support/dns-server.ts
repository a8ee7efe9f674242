// A tiny authoritative DNS server over UDP on 127.0.0.1 for the DNS-rebinding cases: it
// answers A and AAAA questions from the test's `answer(name, type, n)`, where `n` counts the
// questions of that name and type so far (1 for the first), so a name can answer a harmless
// address first and a metadata address afterwards. TTL 0, one question per query (what
// c-ares sends); every question is logged. Not a test file itself.
import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export type RecordType = 'A' | 'AAAA';

export interface DnsServer {
  /** "127.0.0.1:PORT", for dnsServerResolveAll. */
  address: string;
  /** Every question asked: name (lower case) and type. */
  questions: Array<{ name: string; type: RecordType | number }>;
  /** How many times `name` was asked for `type`. */
  count(name: string, type?: RecordType): number;
  stop(): Promise<void>;
}

const TYPES: Record<number, RecordType> = { 1: 'A', 28: 'AAAA' };

function readName(msg: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = start;
  while (i < msg.length && msg[i]! !== 0) {
    const len = msg[i]!;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function rdata(type: RecordType, ip: string): Buffer | undefined {
  if (type === 'A' && isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (type === 'AAAA' && isIPv6(ip)) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const parse = (s: string) => (s ? s.split(':').map((h) => Number.parseInt(h, 16)) : []);
    const left = parse(head);
    const right = tail === undefined ? [] : parse(tail);
    const groups = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
    const out = Buffer.alloc(16);
    for (let k = 0; k < 8; k++) out.writeUInt16BE(groups[k]!, k * 2);
    return out;
  }
  return undefined;
}

export async function startDnsServer(
  answer: (name: string, type: RecordType, n: number) => string[],
): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const questions: DnsServer['questions'] = [];
  const counts = new Map<string, number>();
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    if (msg.length < 12) return;
    const { name, end } = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const type = TYPES[qtype];
    questions.push({ name, type: type ?? qtype });
    const question = msg.subarray(12, end + 4);
    const records: Buffer[] = [];
    if (type) {
      const key = `${name} ${type}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      for (const ip of answer(name, type, n)) {
        const data = rdata(type, ip);
        if (!data) continue;
        const rr = Buffer.alloc(12);
        rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
        rr.writeUInt16BE(qtype, 2);
        rr.writeUInt16BE(1, 4); // class IN
        rr.writeUInt32BE(0, 6); // TTL 0: never cached
        rr.writeUInt16BE(data.length, 10);
        records.push(rr, data);
      }
    }
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // the query's id
    header.writeUInt16BE(0x8180 | (msg.readUInt16BE(2) & 0x0100), 2); // response, no error
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length / 2, 6);
    socket.send(Buffer.concat([header, question, ...records]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    questions,
    count: (name, type) =>
      questions.filter((q) => q.name === name && (type === undefined || q.type === type)).length,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
