// Client address and scheme behind a reverse proxy: headers believed only from trusted peers.
import { describe, expect, it } from 'vitest';
import { clientInfo } from '../../src/server/http/client-info.ts';

const headers =
  (values: Record<string, string>) =>
  (name: string): string | undefined =>
    values[name];

describe('clientInfo', () => {
  it('ignores forwarding headers from an untrusted peer', () => {
    const forged = headers({ 'x-forwarded-for': '10.9.9.9', 'x-forwarded-proto': 'https' });
    expect(clientInfo('203.0.113.5', forged, false)).toEqual({ address: '203.0.113.5', secure: false });
    expect(clientInfo('203.0.113.5', forged, ['127.0.0.1'])).toEqual({
      address: '203.0.113.5',
      secure: false,
    });
  });

  it('trusts one proxy in front with trustProxy: true (the rightmost hop is the client)', () => {
    const forwarded = headers({ 'x-forwarded-for': '6.6.6.6, 198.51.100.7', 'x-forwarded-proto': 'https' });
    expect(clientInfo('127.0.0.1', forwarded, true)).toEqual({ address: '198.51.100.7', secure: true });
    expect(clientInfo('::ffff:127.0.0.1', headers({}), true)).toEqual({
      address: '127.0.0.1',
      secure: false,
    });
  });

  it('walks back through a list of trusted proxies, so a client cannot prepend an address', () => {
    const chain = headers({
      'x-forwarded-for': '1.1.1.1, 198.51.100.7, 10.0.0.2',
      'x-forwarded-proto': 'http',
    });
    expect(clientInfo('10.0.0.1', chain, ['10.0.0.1', '10.0.0.2'])).toEqual({
      address: '198.51.100.7',
      secure: false,
    });
  });

  it('trusts proxies by network, for IPv4 and IPv6', () => {
    const chain = headers({ 'x-forwarded-for': '198.51.100.7, 10.1.2.3', 'x-forwarded-proto': 'https' });
    expect(clientInfo('10.9.9.9', chain, ['10.0.0.0/8'])).toEqual({ address: '198.51.100.7', secure: true });
    expect(clientInfo('11.0.0.1', chain, ['10.0.0.0/8'])).toEqual({ address: '11.0.0.1', secure: false });
    const v6 = headers({ 'x-forwarded-for': '2001:db8::7' });
    expect(clientInfo('fd00::1', v6, ['fd00::/8'])).toEqual({ address: '2001:db8::7', secure: false });
    expect(clientInfo('::ffff:10.0.0.5', chain, ['10.0.0.0/8']).address).toBe('198.51.100.7');
  });
});
