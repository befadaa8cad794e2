// The encoded scrypt hashes: self-describing, verifiable with the parameters they carry, bounded.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT_PARAMETERS,
  hashParameters,
  hashPassword,
  isPasswordHash,
  verifyDummy,
  verifyPassword,
} from '../../src/server/password-hash.ts';

describe('password hashes', () => {
  it('carry their parameters, a 16-byte salt and a 32-byte key', async () => {
    const hash = await hashPassword('a long password');
    const [, algorithm, parameters, salt, key] = hash.split('$');
    expect([algorithm, parameters]).toEqual(['scrypt', 'ln=15,r=8,p=1']);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(key!, 'base64url')).toHaveLength(32);
    expect(hashParameters(hash)).toEqual(DEFAULT_SCRYPT_PARAMETERS);
    expect(isPasswordHash(hash)).toBe(true);
  });

  it('a hash made with other parameters still verifies with them (raising the cost later keeps old hashes)', async () => {
    const cheap = await hashPassword('a long password', { ln: 12, r: 4, p: 2 });
    expect(hashParameters(cheap)).toEqual({ ln: 12, r: 4, p: 2 });
    expect(await verifyPassword('a long password', cheap)).toBe(true);
    expect(await verifyPassword('a long passwore', cheap)).toBe(false);
  });

  it('compares Unicode passwords after NFC normalisation (composed and decomposed é match)', async () => {
    const hash = await hashPassword('caf\u00e9 au lait', { ln: 10, r: 8, p: 1 });
    expect(await verifyPassword('cafe\u0301 au lait', hash)).toBe(true);
  });

  it('a malformed hash verifies nothing, at the cost of a real verification', async () => {
    const start = performance.now();
    expect(await verifyPassword('anything', 'not a hash')).toBe(false);
    const elapsed = performance.now() - start;
    // Generous: scrypt at N=2^15 takes tens of ms; a shortcut would return in microseconds.
    expect(elapsed).toBeGreaterThan(5);
    expect(await verifyDummy('anything')).toBe(false);
  });

  it.each([
    '$scrypt$ln=15,r=8,p=1$short$key',
    '$scrypt$ln=25,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    '$scrypt$ln=15,r=99,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'scrypt$ln=15,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    '',
  ])('%j is not a hash', (text) => {
    expect(isPasswordHash(text)).toBe(false);
    expect(hashParameters(text)).toBeUndefined();
  });
});
