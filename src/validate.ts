// Argument checks shared by the public classes: each failure is a BuffereventError whose code names
// the kind of argument and whose message says what was expected.
import { isIP } from 'node:net';
import { BuffereventError } from './errors.ts';
import { EV } from './constants.ts';

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function requireInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
  code = 'ERR_INVALID_ARG',
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BuffereventError(
      `${name} must be an integer from ${min} to ${max}, got ${describe(value)}`,
      code,
    );
  }
  return value;
}

export function requireFd(value: unknown): number {
  return requireInteger(value, 'fd', 0, 0x7fffffff, 'ERR_INVALID_FD');
}

export function requirePort(value: unknown, { allowZero }: { allowZero: boolean }): number {
  return requireInteger(value, 'port', allowZero ? 0 : 1, 65535, 'ERR_INVALID_PORT');
}

/** A mask of EV.READ and EV.WRITE, with at least one of them. */
export function requireIoEvents(value: unknown, name = 'events'): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value === 0 ||
    (value & ~(EV.READ | EV.WRITE)) !== 0
  ) {
    throw new BuffereventError(
      `${name} must be EV.READ, EV.WRITE or both, got ${describe(value)}`,
      'ERR_INVALID_ARG',
    );
  }
  return value;
}

/**
 * The longest duration the binding accepts, in ms: 2^31 - 1 (about 24.8 days), the same bound as
 * Node's own timers. Longer values would overflow on the way to libevent's timeval (1e300 ms once
 * fired after 2 ms); the addon clamps to the same bound as a second line of defence.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A duration in ms from 0 to MAX_TIMEOUT_MS. */
export function requireMilliseconds(value: unknown, name: string, code = 'ERR_INVALID_TIMEOUT'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT_MS) {
    throw new BuffereventError(
      `${name} must be a number of milliseconds from 0 to ${MAX_TIMEOUT_MS} (about 24.8 days), got ${describe(value)}`,
      code,
    );
  }
  return value;
}

/** An idle timeout: null or 0 for none, else a duration as requireMilliseconds checks it. */
export function requireTimeout(value: unknown, name: string): number | null {
  if (value === null || value === 0) return null;
  return requireMilliseconds(value, name);
}

/** An options argument: undefined (all defaults) or a plain object, never null, a string or a number. */
export function requireOptions<T extends object>(value: unknown, shape: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BuffereventError(
      `options must be an object ${shape}, got ${describe(value)}`,
      'ERR_INVALID_ARG',
    );
  }
  return value as Partial<T>;
}

/** An optional boolean option: a string such as 'false' is refused rather than read as true. */
export function optionalBoolean(value: unknown, name: string, defaultValue: boolean): boolean {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'boolean') {
    throw new BuffereventError(`${name} must be true or false, got ${describe(value)}`, 'ERR_INVALID_ARG');
  }
  return value;
}

export function requireHostname(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253 || /[\s\0/]/.test(value)) {
    throw new BuffereventError(
      `host must be a host name or IP address, got ${describe(value)}`,
      'ERR_INVALID_HOST',
    );
  }
  return value;
}

/**
 * The local end a connect binds to, or null when none was asked for: a numeric address of this
 * machine (of `family`, the target's, when it is known) and a port 0–65535.
 */
export function requireLocalEndpoint(
  given: { localAddress?: unknown; localPort?: unknown },
  family: 0 | 4 | 6,
): { address: string; family: 4 | 6; port: number } | null {
  const { localAddress, localPort } = given;
  if (localAddress === undefined) {
    if (localPort === undefined) return null;
    throw new BuffereventError(
      "localPort needs localAddress (use '0.0.0.0' or '::' for any local address)",
      'ERR_INVALID_ARG',
    );
  }
  const localFamily = typeof localAddress === 'string' ? isIP(localAddress) : 0;
  if (localFamily === 0) {
    throw new BuffereventError(
      `localAddress must be a numeric IP address, got ${describe(localAddress)}`,
      'ERR_INVALID_HOST',
    );
  }
  if (family !== 0 && localFamily !== family) {
    throw new BuffereventError(
      `localAddress ${String(localAddress)} is IPv${localFamily} and cannot reach an IPv${family} address`,
      'ERR_INVALID_HOST',
    );
  }
  const port =
    localPort === undefined ? 0 : requireInteger(localPort, 'localPort', 0, 65535, 'ERR_INVALID_PORT');
  return { address: localAddress as string, family: localFamily as 4 | 6, port };
}

export type BinaryLike = Buffer | Uint8Array | string;

export function toBuffer(data: unknown, name = 'data'): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new BuffereventError(
    `${name} must be a Buffer, Uint8Array or string, got ${describe(data)}`,
    'ERR_INVALID_ARG',
  );
}

export function requireFunction<T>(value: unknown, name: string): T {
  if (typeof value !== 'function') {
    throw new BuffereventError(`${name} must be a function, got ${describe(value)}`, 'ERR_INVALID_ARG');
  }
  return value as T;
}
