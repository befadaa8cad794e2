// Password hashes for the users file: scrypt from node:crypto, stored as a self-describing string
//   $scrypt$ln=15,r=8,p=1$<salt, base64url>$<key, base64url>
// (the PHC string layout) so the cost can be raised later and old hashes still verify with the
// parameters they were made with. Hashing runs on libuv's thread pool (crypto.scrypt), never on the
// event loop's thread.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParameters {
  /** log2 of scrypt's N (CPU/memory cost). */
  readonly ln: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

/**
 * The parameters of new hashes: N = 2^15, r = 8, p = 1 — 32 MiB and about 80 ms per hash (idle) on the 2-core
 * AMD EPYC VM this project is measured on (2^14: 35 ms, 2^16: 180 ms).
 */
export const DEFAULT_SCRYPT_PARAMETERS: ScryptParameters = Object.freeze({ ln: 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;

// Bounds on parameters read from a file: a hostile or corrupt hash must not make one login cost
// seconds or gigabytes (2^20 * 8 * 128 bytes = 1 GiB is the most allowed).
const MAX_LN = 20;
const MIN_LN = 10;
const MAX_R = 16;
const MAX_P = 4;
const MAX_MEMORY_BYTES = 2 ** MAX_LN * 8 * 128 + 1024 * 1024;

const ENCODED =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,88})\$([A-Za-z0-9_-]{16,88})$/;

interface DecodedHash {
  readonly parameters: ScryptParameters;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** The parts of an encoded hash, or undefined when it is not one this module can verify. */
function decode(encoded: string): DecodedHash | undefined {
  const match = ENCODED.exec(encoded);
  if (match === null) return undefined;
  const parameters = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (!parametersInBounds(parameters)) return undefined;
  const salt = Buffer.from(match[4]!, 'base64url');
  const key = Buffer.from(match[5]!, 'base64url');
  // Only the exact encoding is accepted (base64url decoding is lenient about trailing bits).
  if (salt.toString('base64url') !== match[4] || key.toString('base64url') !== match[5]) return undefined;
  return { parameters, salt, key };
}

function parametersInBounds({ ln, r, p }: ScryptParameters): boolean {
  return ln >= MIN_LN && ln <= MAX_LN && r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P;
}

/** True when `encoded` is a hash `verifyPassword` accepts (the users file checks every entry with it). */
export function isPasswordHash(encoded: unknown): encoded is string {
  return typeof encoded === 'string' && decode(encoded) !== undefined;
}

/** The parameters an encoded hash was made with (undefined when it is not a valid hash). */
export function hashParameters(encoded: string): ScryptParameters | undefined {
  return decode(encoded)?.parameters;
}

function derive(password: string, salt: Buffer, { ln, r, p }: ScryptParameters): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** ln, r, p, maxmem: MAX_MEMORY_BYTES };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** A new encoded hash of `password` with a random salt. */
export async function hashPassword(
  password: string,
  parameters: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, parameters);
  const { ln, r, p } = parameters;
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Whether `password` matches `encoded`, compared in constant time. A malformed `encoded` is checked
 * against the dummy hash instead (same cost) and gives false.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const decoded = decode(encoded);
  const target = decoded ?? DUMMY;
  const key = await derive(password, target.salt, target.parameters);
  return decoded !== undefined && key.length === target.key.length && timingSafeEqual(key, target.key);
}

// What an unknown user's login is verified against, so it costs the same scrypt run as a known one's
// and timing does not tell which users exist. Its key is zeros, which no password derives in practice;
// verifyDummy() returns false regardless.
const DUMMY: DecodedHash = {
  parameters: DEFAULT_SCRYPT_PARAMETERS,
  salt: Buffer.alloc(SALT_BYTES, 0x5a),
  key: Buffer.alloc(KEY_BYTES),
};

/** Runs one verification of `password` at the default cost and returns false. */
export async function verifyDummy(password: string): Promise<false> {
  const key = await derive(password, DUMMY.salt, DUMMY.parameters);
  timingSafeEqual(key, DUMMY.key);
  return false;
}
