// connect() and connectHostname() with localAddress/localPort: the socket is bound before it connects
// (the listener sees exactly the bound address and port), bind failures are ERR_CONNECT with errno and
// syscall 'bind', and no socket made for a failed bind or connect is left open. Linux loopback accepts
// every 127/8 address, so 127.0.0.2 is a second local address; 192.0.2.1 (TEST-NET-1) is on no machine.
import { closeSync, fstatSync } from 'node:fs';
import { constants } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Bufferevent, BuffereventError, EventBase, Listener, type SocketAddress } from '../../src/index.ts';
import { BEV, checkNothingLeaksAfterEach, errorCodeOf, thrownError, turns, waitFor } from '../helpers.ts';
import { QTYPE, RCODE, startFakeDnsServer, type FakeDnsServer } from './fake-dns-server.ts';

const { EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT } = constants.errno;

// The resolver is configured (its sockets opened) once, before the per-test fd counts: names other than
// 'localhost' and numeric hosts go to this fake server. two.local-address.test has the A records
// 127.0.0.3 (nothing listens there: refused) then 127.0.0.1, and no AAAA record.
let dns: FakeDnsServer;
beforeAll(async () => {
  dns = await startFakeDnsServer((name, type) =>
    name === 'two.local-address.test'
      ? { addresses: type === QTYPE.A ? ['127.0.0.3', '127.0.0.1'] : [] }
      : { rcode: RCODE.NXDOMAIN },
  );
  EventBase.default().configureDns({ servers: [`127.0.0.1:${dns.port}`], timeoutMs: 500, attempts: 1 });
});
afterAll(async () => {
  EventBase.default().configureDns({ servers: [] });
  await dns.close();
});

checkNothingLeaksAfterEach({ fds: true });

interface Accepting {
  listener: Listener;
  port: number;
  peers: SocketAddress[];
  close: () => void;
}

/** A listener that records each accepted peer; close() also frees the accepted sockets. */
function accepting(host = '127.0.0.1'): Accepting {
  const peers: SocketAddress[] = [];
  const fds: number[] = [];
  const listener = Listener.listen({ host, port: 0 }, (fd, peer) => {
    fds.push(fd);
    peers.push(peer);
  });
  return {
    listener,
    port: listener.address.port,
    peers,
    close: () => {
      for (const fd of fds) Bufferevent.socket({ fd }).free();
      listener.close();
    },
  };
}

/** A socket bufferevent that records its events as [events, error code]. */
function recording(): { bev: Bufferevent; seen: Array<[number, string | undefined]> } {
  const bev = Bufferevent.socket();
  const seen: Array<[number, string | undefined]> = [];
  bev.setCallbacks({ event: (_bev, events, error) => seen.push([events, error?.code]) });
  return { bev, seen };
}

/** A local port free a moment ago (the kernel gave it to a listener that is closed again). */
function freePort(host: string): number {
  const probe = Listener.listen({ host, port: 0 }, () => {});
  const { port } = probe.address;
  probe.close();
  return port;
}

describe('connect() with localAddress', () => {
  it.each(['127.0.0.1', '127.0.0.2'])(
    'binds to %s: the listener sees exactly that peer address, and one CONNECTED arrives',
    async (localAddress) => {
      const server = accepting();
      const { bev, seen } = recording();
      bev.connect({ host: '127.0.0.1', port: server.port, localAddress });
      await waitFor(() => seen.length > 0 && server.peers.length === 1, 5_000, 'the connection');
      await turns(3);
      expect(seen).toEqual([[BEV.CONNECTED, undefined]]);
      expect(server.peers).toHaveLength(1);
      expect(server.peers[0]!.address).toBe(localAddress);
      expect(server.peers[0]!.family).toBe('IPv4');
      bev.free();
      server.close();
    },
  );

  it('honours localPort', async () => {
    const server = accepting();
    const localPort = freePort('127.0.0.2');
    const { bev, seen } = recording();
    bev.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2', localPort });
    await waitFor(() => seen.length > 0 && server.peers.length === 1, 5_000, 'the connection');
    expect(seen).toEqual([[BEV.CONNECTED, undefined]]);
    expect(server.peers[0]).toEqual({ address: '127.0.0.2', port: localPort, family: 'IPv4' });
    bev.free();
    server.close();
  });

  it("binds to '::1' when the machine has IPv6 loopback, and says why not otherwise", async () => {
    let server: Accepting | undefined;
    try {
      server = accepting('::1'); // the runtime check: a real bind to ::1
    } catch (error) {
      expect((error as BuffereventError).code).toBe('ERR_LISTEN');
    }
    const { bev, seen } = recording();
    if (server === undefined) {
      const error = thrownError(() => bev.connect({ host: '::1', port: 9, localAddress: '::1' }));
      expect(error.code).toBe('ERR_CONNECT');
      expect(['socket', 'bind']).toContain(error.syscall);
      expect([EADDRNOTAVAIL, EAFNOSUPPORT]).toContain(error.errno);
      expect(bev.fd).toBe(-1);
    } else {
      bev.connect({ host: '::1', port: server.port, localAddress: '::1' });
      await waitFor(() => seen.length > 0 && server.peers.length === 1, 5_000, 'the connection');
      expect(seen).toEqual([[BEV.CONNECTED, undefined]]);
      expect(server.peers[0]).toMatchObject({ address: '::1', family: 'IPv6' });
      server.close();
    }
    bev.free();
  });

  it('throws ERR_CONNECT with EADDRNOTAVAIL and syscall bind for an address of no local interface; no event, no socket left', async () => {
    const { bev, seen } = recording();
    const error = thrownError(() => bev.connect({ host: '127.0.0.1', port: 9, localAddress: '192.0.2.1' }));
    expect(error.code).toBe('ERR_CONNECT');
    expect(error.errno).toBe(EADDRNOTAVAIL);
    expect(error.syscall).toBe('bind');
    expect(error.systemCode).toBe('EADDRNOTAVAIL');
    expect(error.message).toContain('192.0.2.1');
    expect(bev.fd).toBe(-1);
    await turns(5);
    expect(seen).toEqual([]);
    bev.free(); // the fd count is checked after each test
  });

  it('throws ERR_CONNECT with EADDRINUSE when the local port is taken, and can connect afterwards', async () => {
    const server = accepting();
    const taken = accepting('127.0.0.2');
    const { bev, seen } = recording();
    const error = thrownError(() =>
      bev.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2', localPort: taken.port }),
    );
    expect([error.code, error.errno, error.syscall]).toEqual(['ERR_CONNECT', EADDRINUSE, 'bind']);
    expect(bev.fd).toBe(-1);
    // Nothing of the failed attempt stays: the same bufferevent connects with another local address.
    bev.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2' });
    await waitFor(() => seen.length > 0 && server.peers.length === 1, 5_000, 'the connection');
    expect(seen).toEqual([[BEV.CONNECTED, undefined]]);
    expect(server.peers[0]!.address).toBe('127.0.0.2');
    expect(server.peers[0]!.port).not.toBe(taken.port);
    bev.free();
    taken.close();
    server.close();
  });

  it('keeps closeOnFree: false — the bound socket stays open after free(), for its owner to close', async () => {
    const server = accepting();
    const bev = Bufferevent.socket({ closeOnFree: false });
    let connected = false;
    bev.setCallbacks({ event: (_bev, events) => (connected = (events & BEV.CONNECTED) !== 0) });
    bev.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2' });
    await waitFor(() => connected, 5_000, 'the connection');
    const fd = bev.fd;
    bev.free();
    await turns(3);
    expect(fstatSync(fd).isSocket()).toBe(true);
    closeSync(fd);
    server.close();
  });

  it('refuses invalid values before doing anything (no socket is made)', () => {
    const bev = Bufferevent.socket();
    const target = { host: '127.0.0.1', port: 9 };
    expect(errorCodeOf(() => bev.connect({ ...target, localAddress: 'localhost' }))).toBe('ERR_INVALID_HOST');
    expect(errorCodeOf(() => bev.connect({ ...target, localAddress: '' }))).toBe('ERR_INVALID_HOST');
    expect(errorCodeOf(() => bev.connect({ ...target, localAddress: 42 as never }))).toBe('ERR_INVALID_HOST');
    // An IPv6 local address cannot reach an IPv4 host, nor conversely.
    expect(errorCodeOf(() => bev.connect({ ...target, localAddress: '::1' }))).toBe('ERR_INVALID_HOST');
    expect(errorCodeOf(() => bev.connect({ host: '::1', port: 9, localAddress: '127.0.0.1' }))).toBe(
      'ERR_INVALID_HOST',
    );
    for (const localPort of [-1, 65536, 1.5, '80' as never, null as never]) {
      expect(errorCodeOf(() => bev.connect({ ...target, localAddress: '127.0.0.1', localPort }))).toBe(
        'ERR_INVALID_PORT',
      );
    }
    expect(errorCodeOf(() => bev.connect({ ...target, localPort: 5000 }))).toBe('ERR_INVALID_ARG');
    expect(
      errorCodeOf(() => bev.connect({ path: '/tmp/none.sock', localAddress: '127.0.0.1' } as never)),
    ).toBe('ERR_INVALID_ARG');
    expect(bev.fd).toBe(-1);
    bev.free();
  });
});

describe('connectHostname() with localAddress', () => {
  it("connects 'localhost' from 127.0.0.2", async () => {
    const server = accepting();
    const { bev, seen } = recording();
    bev.connectHostname('localhost', server.port, { localAddress: '127.0.0.2' });
    await waitFor(() => seen.length > 0 && server.peers.length === 1, 5_000, 'the connection');
    await turns(3);
    expect(seen).toEqual([[BEV.CONNECTED, undefined]]);
    expect(server.peers.map((peer) => peer.address)).toEqual(['127.0.0.2']);
    bev.free();
    server.close();
  });

  it('reports one ERROR, ERR_CONNECT with EADDRNOTAVAIL, when the bind fails; no socket left', async () => {
    const { bev } = recording();
    const errors: BuffereventError[] = [];
    bev.setCallbacks({ event: (_bev, _events, error) => errors.push(error!) });
    bev.connectHostname('localhost', 9, { localAddress: '192.0.2.1' });
    await waitFor(() => errors.length > 0, 5_000, 'the failure');
    await turns(5);
    expect(errors).toHaveLength(1);
    expect([errors[0]!.code, errors[0]!.errno]).toEqual(['ERR_CONNECT', EADDRNOTAVAIL]);
    expect(errors[0]!.message).toMatch(/bind to local address 192\.0\.2\.1/);
    expect(bev.fd).toBe(-1);
    bev.free();
  });

  it('skips addresses of the other family, and says so when none is left', async () => {
    const { bev } = recording();
    const errors: BuffereventError[] = [];
    bev.setCallbacks({ event: (_bev, _events, error) => errors.push(error!) });
    bev.connectHostname('127.0.0.1', 9, { localAddress: '::1' }); // numeric: resolves to itself only
    await waitFor(() => errors.length > 0, 5_000, 'the failure');
    await turns(5);
    expect(errors).toHaveLength(1);
    expect([errors[0]!.code, errors[0]!.errno]).toEqual(['ERR_CONNECT', EAFNOSUPPORT]);
    expect(errors[0]!.message).toMatch(/none is IPv6, the family of localAddress ::1/);
    expect(bev.fd).toBe(-1);
    bev.free();
  });

  it('refuses invalid values, and a family that contradicts localAddress', () => {
    const bev = Bufferevent.socket();
    expect(errorCodeOf(() => bev.connectHostname('localhost', 9, { localAddress: 'me' }))).toBe(
      'ERR_INVALID_HOST',
    );
    expect(
      errorCodeOf(() => bev.connectHostname('localhost', 9, { family: 6, localAddress: '127.0.0.1' })),
    ).toBe('ERR_INVALID_HOST');
    expect(
      errorCodeOf(() => bev.connectHostname('localhost', 9, { localAddress: '127.0.0.1', localPort: 70000 })),
    ).toBe('ERR_INVALID_PORT');
    expect(errorCodeOf(() => bev.connectHostname('localhost', 9, { localPort: 1 }))).toBe('ERR_INVALID_ARG');
    expect(bev.fd).toBe(-1);
    bev.free();
  });

  describe('over several resolved addresses', () => {
    let server: Accepting;
    beforeEach(() => (server = accepting()));
    afterEach(() => server.close());

    it('binds a fresh socket for each attempt: the second connects from the same local address and port', async () => {
      const localPort = freePort('127.0.0.2');
      const { bev, seen } = recording();
      bev.connectHostname('two.local-address.test', server.port, { localAddress: '127.0.0.2', localPort });
      await waitFor(() => seen.length > 0 && server.peers.length === 1, 5_000, 'the connection');
      await turns(3);
      expect(seen).toEqual([[BEV.CONNECTED, undefined]]);
      expect(server.peers).toEqual([{ address: '127.0.0.2', port: localPort, family: 'IPv4' }]);
      bev.free();
    });
  });
});
