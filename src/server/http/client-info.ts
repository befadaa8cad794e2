// Who the client is and whether it came over TLS, when the server may sit behind a reverse proxy
// (nginx terminating TLS). Proxy headers are believed only from a trusted peer: `trustProxy: true`
// trusts the direct peer (one proxy in front), a list trusts those addresses and networks
// ("10.0.0.0/8"; each hop is checked from the right of X-Forwarded-For, so a client cannot prepend
// a fake address of its own).
import { BlockList, isIP } from 'node:net';

export type TrustProxy = boolean | readonly string[];

export interface ClientInfo {
  /** The client's address (the peer's, unless a trusted proxy said otherwise). */
  readonly address: string;
  /** True when the client used TLS (https/wss), as a trusted proxy reports it. */
  readonly secure: boolean;
}

function normalise(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

const trustedLists = new WeakMap<readonly string[], BlockList>();

/** The proxies of a trustProxy list as a BlockList (made once per list). */
function proxyList(entries: readonly string[]): BlockList {
  let list = trustedLists.get(entries);
  if (list !== undefined) return list;
  list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = normalise(entry).split('/');
    const family = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address!, family);
    else list.addSubnet(address!, Number(bits), family);
  }
  trustedLists.set(entries, list);
  return list;
}

function isTrusted(address: string, trust: TrustProxy): boolean {
  if (trust === true) return true;
  if (trust === false) return false;
  const family = isIP(address);
  if (family === 0) return false;
  return proxyList(trust).check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** `header(name)` returns one header's value (lower-case name), or undefined. */
export function clientInfo(
  peerAddress: string | undefined,
  header: (name: string) => string | undefined,
  trust: TrustProxy,
): ClientInfo {
  const peer = normalise(peerAddress ?? '');
  if (peer === '' || !isTrusted(peer, trust)) return { address: peer, secure: false };
  const hops = (header('x-forwarded-for') ?? '')
    .split(',')
    .map((hop) => normalise(hop.trim()))
    .filter((hop) => hop !== '');
  let address = peer;
  if (trust === true) {
    address = hops.at(-1) ?? peer;
  } else {
    // Walk back through the proxies we trust; the first address that is not one is the client.
    for (let index = hops.length - 1; index >= 0; index--) {
      address = hops[index]!;
      if (!isTrusted(address, trust)) break;
    }
  }
  const proto = (header('x-forwarded-proto') ?? '').split(',')[0]!.trim().toLowerCase();
  return { address, secure: proto === 'https' || proto === 'wss' };
}
