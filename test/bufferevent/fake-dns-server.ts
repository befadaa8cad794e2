// A tiny DNS server on 127.0.0.1 for the hostname tests: it answers A/AAAA queries from a table,
// encoding the responses by hand, so connectHostname never queries a real resolver.
import dgram from 'node:dgram';

export const QTYPE = { A: 1, AAAA: 28 } as const;
export const RCODE = { NOERROR: 0, NXDOMAIN: 3 } as const;

export interface Query {
  /** The name, lower-cased (evdns randomizes the case of the letters it sends). */
  name: string;
  type: number;
  /** Sends `answer` now (used for queries the table said to hold). */
  reply: (answer: Answer) => void;
}

export interface Answer {
  rcode?: number;
  /** IPv4 addresses for A answers, in this order. */
  addresses?: string[];
}

/** What to answer: an Answer, or 'hold' to keep the query unanswered (see Query.reply). */
export type Responder = (name: string, type: number) => Answer | 'hold';

export interface FakeDnsServer {
  port: number;
  queries: Query[];
  close: () => Promise<void>;
}

interface ParsedQuery {
  id: number;
  name: string;
  type: number;
  /** The question section exactly as received, echoed back in the response. */
  question: Buffer;
}

function parseQuery(message: Buffer): ParsedQuery | undefined {
  if (message.length < 12 || message.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < message.length) {
    const length = message[offset]!;
    offset += 1;
    if (length === 0) break;
    if (length > 63 || offset + length > message.length) return undefined;
    labels.push(message.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  const type = message.readUInt16BE(offset);
  return {
    id: message.readUInt16BE(0),
    name: labels.join('.').toLowerCase(),
    type,
    question: message.subarray(12, offset + 4),
  };
}

export function encodeResponse(query: ParsedQuery, answer: Answer): Buffer {
  const rcode = answer.rcode ?? RCODE.NOERROR;
  const addresses = query.type === QTYPE.A && rcode === RCODE.NOERROR ? (answer.addresses ?? []) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.id, 0);
  header.writeUInt16BE(0x8180 | rcode, 2); // QR, RD, RA, and the response code
  header.writeUInt16BE(1, 4); // one question
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((address) => {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's name at offset 12
    record.writeUInt16BE(QTYPE.A, 2);
    record.writeUInt16BE(1, 4); // class IN
    record.writeUInt32BE(60, 6); // TTL
    record.writeUInt16BE(4, 10);
    address.split('.').forEach((octet, index) => record.writeUInt8(Number(octet), 12 + index));
    return record;
  });
  return Buffer.concat([header, query.question, ...records]);
}

export async function startFakeDnsServer(respond: Responder): Promise<FakeDnsServer> {
  const socket = dgram.createSocket('udp4');
  const queries: Query[] = [];
  socket.on('message', (message, remote) => {
    const parsed = parseQuery(message);
    if (parsed === undefined) return;
    const reply = (answer: Answer): void => {
      socket.send(encodeResponse(parsed, answer), remote.port, remote.address);
    };
    queries.push({ name: parsed.name, type: parsed.type, reply });
    const answer = respond(parsed.name, parsed.type);
    if (answer !== 'hold') reply(answer);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
