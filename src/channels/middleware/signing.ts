// Signed session cookies: `<id>.<base64url HMAC-SHA256(secret, id)>`. Signed with the first secret,
// accepted with any of them (rotate a secret by putting the new one first and keeping the old one
// until old cookies have expired). Comparison is constant-time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh session id: 18 random bytes (144 bits), base64url. */
export function newSessionId(): string {
  return randomBytes(18).toString('base64url');
}

const SESSION_ID = /^[A-Za-z0-9_-]{24}$/;

function mac(secret: string, id: string): Buffer {
  return createHmac('sha256', secret).update(id).digest();
}

export function signSessionId(id: string, secrets: readonly string[]): string {
  return `${id}.${mac(secrets[0]!, id).toString('base64url')}`;
}

/** The session id of a cookie value signed with one of `secrets`, or undefined (forged, tampered, malformed). */
export function verifySessionCookie(value: string, secrets: readonly string[]): string | undefined {
  const dot = value.lastIndexOf('.');
  if (dot < 0) return undefined;
  const id = value.slice(0, dot);
  if (!SESSION_ID.test(id)) return undefined;
  // Compared as text, not decoded: base64 decoding is lenient (ignores stray characters, spare
  // bits), so only the exact encoding is accepted.
  const given = Buffer.from(value.slice(dot + 1), 'latin1');
  let valid = false;
  for (const secret of secrets) {
    const expected = Buffer.from(mac(secret, id).toString('base64url'), 'latin1');
    // Every secret is checked, so timing does not tell which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid ? id : undefined;
}
