// connectHostname: the hosts file, every resolved address tried in turn, DNS errors, free() mid-lookup.
// Only 'localhost' and names answered by the fake server on 127.0.0.1 are ever looked up.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Bufferevent, EventBase, Listener } from '../../src/index.ts';
import { BEV, EV, liveCounts, openFdCount, turns, waitFor } from '../helpers.ts';
import { QTYPE, RCODE, startFakeDnsServer, type Answer, type FakeDnsServer } from './fake-dns-server.ts';

const TABLE: Record<string, Answer | 'hold'> = {
  'refused-then-open.bufferevent.test': { addresses: ['127.0.0.2', '127.0.0.1'] },
  'refused-only.bufferevent.test': { addresses: ['127.0.0.2'] },
  'missing.bufferevent.test': { rcode: RCODE.NXDOMAIN },
  'slow.bufferevent.test': 'hold',
};

let dns: FakeDnsServer;
let listener: Listener;
let accepted: number[];

beforeAll(async () => {
  dns = await startFakeDnsServer((name, type) => {
    const entry = TABLE[name] ?? { rcode: RCODE.NXDOMAIN };
    if (entry === 'hold') return 'hold';
    // AAAA: the names exist but have no IPv6 address (NOERROR with no records).
    return type === QTYPE.A || entry.rcode !== undefined ? entry : { addresses: [] };
  });
  EventBase.default().configureDns({ servers: [`127.0.0.1:${dns.port}`], timeoutMs: 500, attempts: 1 });
});

afterAll(async () => {
  EventBase.default().configureDns({ servers: [] });
  await dns.close();
});

let start: ReturnType<typeof liveCounts>;
beforeEach(() => {
  accepted = [];
  listener = Listener.listen({ host: '127.0.0.1', port: 0 }, (fd) => accepted.push(fd));
  start = liveCounts();
});
afterEach(() => {
  expect(liveCounts()).toEqual(start);
  for (const fd of accepted) Bufferevent.socket({ fd }).free();
  listener.close();
});

interface Seen {
  events: number;
  code: string | undefined;
}

function connectHostname(host: string): { bev: Bufferevent; seen: Seen[] } {
  const bev = Bufferevent.socket();
  const seen: Seen[] = [];
  bev.setCallbacks({ event: (_bev, events, error) => seen.push({ events, code: error?.code }) });
  bev.connectHostname(host, listener.address.port);
  return { bev, seen };
}

const queriesFor = (name: string): number => dns.queries.filter((query) => query.name === name).length;

describe('connectHostname', () => {
  it("connects to 'localhost' from the hosts file without querying a name server", async () => {
    const { bev, seen } = connectHostname('localhost');
    await waitFor(() => seen.length > 0 && accepted.length === 1, 5_000, 'the connection');
    await turns(5);
    expect(seen).toEqual([{ events: BEV.CONNECTED, code: undefined }]);
    expect(queriesFor('localhost')).toBe(0);
    bev.free();
  });

  it('tries the next resolved address when the first refuses, and reports one CONNECTED', async () => {
    const fdsBefore = openFdCount();
    const name = 'refused-then-open.bufferevent.test';
    const { bev, seen } = connectHostname(name);
    await waitFor(() => seen.length > 0 && accepted.length === 1, 5_000, 'the connection');
    await turns(5);
    expect(seen).toEqual([{ events: BEV.CONNECTED, code: undefined }]);
    expect(dns.queries.some((query) => query.name === name && query.type === QTYPE.A)).toBe(true);
    expect(accepted).toHaveLength(1);

    // The connection is usable: bytes reach the accepted socket.
    const server = Bufferevent.socket({ fd: accepted.pop()! });
    const received: string[] = [];
    server.setCallbacks({ read: (peer) => received.push(peer.read().toString()) });
    server.enable(EV.READ);
    bev.write('through the second address');
    await waitFor(() => received.join('') === 'through the second address', 5_000, 'the data');
    bev.free();
    server.free();
    // The refused attempt's socket was closed, not leaked.
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('reports BEV.ERROR with ECONNREFUSED when the only resolved address refuses', async () => {
    const { bev, seen } = connectHostname('refused-only.bufferevent.test');
    await waitFor(() => seen.length > 0, 5_000, 'the failure');
    await turns(5);
    expect(seen).toEqual([{ events: BEV.ERROR, code: 'ECONNREFUSED' }]);
    expect(accepted).toHaveLength(0);
    bev.free();
  });

  it('reports exactly BEV.ERROR with ERR_DNS for a name that does not exist', async () => {
    const { bev, seen } = connectHostname('missing.bufferevent.test');
    await waitFor(() => seen.length > 0, 5_000, 'the failure');
    await turns(5);
    expect(seen).toEqual([{ events: BEV.ERROR, code: 'ERR_DNS' }]);
    expect(queriesFor('missing.bufferevent.test')).toBeGreaterThanOrEqual(1);
    expect(accepted).toHaveLength(0);
    bev.free();
  });

  it('never calls back after free() during a pending lookup, even when the answer then arrives', async () => {
    const name = 'slow.bufferevent.test';
    const { bev, seen } = connectHostname(name);
    await waitFor(() => queriesFor(name) > 0, 5_000, 'the query at the fake server');
    bev.free();
    for (const query of dns.queries.filter((held) => held.name === name)) {
      query.reply({ addresses: ['127.0.0.1'] });
    }
    // Past the resolver's 500 ms timeout, so a late timeout would have shown up too.
    await new Promise((resolve) => setTimeout(resolve, 700));
    await turns(5);
    expect(seen).toEqual([]);
    expect(accepted).toHaveLength(0);
  });
});
