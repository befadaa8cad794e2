// The channel layer contract shared by every layer (in-memory today, Redis later), and the checks
// every layer applies the same way: channel and group names as Django Channels accepts them, messages
// as JSON objects with a string `type`, and the capacity/expiry options with Channels' defaults.
import { ChannelLayerRangeError, ChannelLayerTypeError } from '../errors.ts';
import type { BroadcastData, BroadcastOptions, LocalGroupSockets } from './group-sockets.ts';

/** A channel layer message: a JSON object whose `type` says which consumer handler receives it. */
export interface ChannelMessage {
  type: string;
  [key: string]: JsonValue;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What one `groupSend` did in this process: messages queued, and members skipped because full. */
export interface GroupSendResult {
  delivered: number;
  dropped: number;
}

/** What one `groupBroadcast` did in this process: member sockets written to, and skipped as slow. */
export interface BroadcastResult {
  delivered: number;
  skipped: number;
}

export interface ReceiveOptions {
  /** Stops waiting: the promise rejects with the signal's reason and no message is consumed. */
  signal?: AbortSignal;
}

/**
 * Channels' layer API. Every method is async and reports errors as rejections. Delivery is
 * at-most-once: a message is handed to one receiver, or dropped (expired, flushed, channel full).
 */
export interface ChannelLayer {
  /** Channels' capability names: this layer supports groups and flush. */
  readonly extensions: readonly string[];
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** Queues `message` on `channel`; rejects with `ChannelFull` when it holds `capacity` messages. */
  send(channel: string, message: ChannelMessage): Promise<void>;
  /** The next message of `channel`, waiting for one if needed; concurrent receivers are served in call order. */
  receive(channel: string, options?: ReceiveOptions): Promise<ChannelMessage>;
  /** A new unique channel name, `prefix` + a process-local part after `!`. */
  newChannel(prefix?: string): Promise<string>;
  /** Adds `channel` to `group` (again: refreshes the membership's age). */
  groupAdd(group: string, channel: string): Promise<void>;
  /** Removes `channel` from `group`; nothing happens if it was not a member. */
  groupDiscard(group: string, channel: string): Promise<void>;
  /** Sends `message` to every member once; a full member is skipped and counted, never thrown. */
  groupSend(group: string, message: ChannelMessage): Promise<GroupSendResult>;
  /**
   * Sends one WebSocket message straight to the socket of every member (its consumer bound it), via
   * the native publish: no consumer code runs and nothing is queued on channels. A member socket
   * over its backpressure cap is skipped and counted. With several processes (Redis), each process
   * writes to its own members' sockets; the result counts this process's.
   */
  groupBroadcast(group: string, data: BroadcastData, options?: BroadcastOptions): Promise<BroadcastResult>;
  /** The sockets of this process's consumers, as `groupBroadcast` reaches them (consumers and serve() use it). */
  readonly localSockets: LocalGroupSockets;
  /** Drops every queued message and every group. Waiting receivers keep waiting. */
  flush(): Promise<void>;
  /** Drops everything, rejects waiting receivers with ERR_CHANNEL_LAYER_CLOSED; later calls reject too. */
  close(): Promise<void>;
}

/** Options every layer accepts, with Channels' names and units (seconds). */
export interface ChannelLayerOptions {
  /** Messages a channel holds before `send` raises `ChannelFull`. Default 100. */
  capacity?: number;
  /** Seconds a message waits to be received before it is dropped. Default 60. */
  expiry?: number;
  /** Seconds a group membership lasts unless renewed by `groupAdd`. Default 86400 (one day). */
  groupExpiry?: number;
}

export const DEFAULT_CAPACITY = 100;
export const DEFAULT_EXPIRY_SECONDS = 60;
export const DEFAULT_GROUP_EXPIRY_SECONDS = 86_400;
/** Names must be shorter than this, as in Channels. */
export const MAX_NAME_LENGTH = 100;
/** Nesting deeper than this is refused rather than risking the stack on a hostile message. */
export const MAX_MESSAGE_DEPTH = 64;

export interface ResolvedLayerOptions {
  capacity: number;
  expiryMs: number;
  groupExpiryMs: number;
}

export function resolveLayerOptions(options: ChannelLayerOptions): ResolvedLayerOptions {
  if (typeof options !== 'object' || options === null)
    throw new ChannelLayerTypeError('channel layer options must be an object', 'ERR_CHANNEL_INVALID_OPTION');
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new ChannelLayerRangeError(
      `capacity must be a positive integer, got ${String(capacity)}`,
      'ERR_CHANNEL_INVALID_OPTION',
    );
  return {
    capacity,
    expiryMs: seconds('expiry', options.expiry ?? DEFAULT_EXPIRY_SECONDS),
    groupExpiryMs: seconds('groupExpiry', options.groupExpiry ?? DEFAULT_GROUP_EXPIRY_SECONDS),
  };
}

function seconds(name: string, value: unknown): number {
  // Up to 2^31-1 ms so the figure also fits a Node timer.
  if (typeof value !== 'number' || !(value > 0) || value * 1000 > 2 ** 31 - 1)
    throw new ChannelLayerRangeError(
      `${name} must be a number of seconds above 0 and at most 2147483, got ${String(value)}`,
      'ERR_CHANNEL_INVALID_OPTION',
    );
  return value * 1000;
}

// Channels' rules: ASCII letters, digits, '-', '_', '.'; a channel may add one '!' and a
// process-local part; both shorter than 100 characters.
const CHANNEL_NAME = /^[A-Za-z0-9\-_.]+(![A-Za-z0-9\-_.]*)?$/;
const GROUP_NAME = /^[A-Za-z0-9\-_.]+$/;

export function validateChannelName(name: unknown): string {
  return validateName('channel', name, CHANNEL_NAME);
}

export function validateGroupName(name: unknown): string {
  return validateName('group', name, GROUP_NAME);
}

function validateName(kind: string, name: unknown, pattern: RegExp): string {
  if (typeof name !== 'string' || name.length >= MAX_NAME_LENGTH || !pattern.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 120)) : typeof name;
    const bang = kind === 'channel' ? ", and at most one '!' followed by the same characters" : '';
    throw new ChannelLayerTypeError(
      `invalid ${kind} name ${shown}: use ASCII letters, digits, '-', '_' and '.'${bang}, ` +
        `fewer than ${MAX_NAME_LENGTH} characters`,
      'ERR_CHANNEL_INVALID_NAME',
    );
  }
  return name;
}

/** The largest `groupBroadcast` payload, as the WebSocket layer's default maxPayload. */
export const MAX_BROADCAST_BYTES = 100 * 1024 * 1024;

/** Checks what `groupBroadcast` was given: a string, Buffer or Uint8Array of at most MAX_BROADCAST_BYTES. */
export function validateBroadcastData(data: unknown): BroadcastData {
  const size =
    typeof data === 'string' ? Buffer.byteLength(data) : data instanceof Uint8Array ? data.byteLength : -1;
  if (size < 0)
    throw new ChannelLayerTypeError(
      `groupBroadcast data must be a string, Buffer or Uint8Array, got ${describe(data)}`,
      'ERR_CHANNEL_INVALID_MESSAGE',
    );
  if (size > MAX_BROADCAST_BYTES)
    throw new ChannelLayerRangeError(
      `groupBroadcast data is ${size} bytes, over the ${MAX_BROADCAST_BYTES}-byte limit`,
      'ERR_CHANNEL_MESSAGE_TOO_LARGE',
    );
  return data as BroadcastData;
}

/**
 * Checks that `message` is a plain object with a string `type` whose values are all JSON values,
 * and returns a deep copy of it, so the sender changing its object afterwards cannot change what is
 * delivered. Refused (ERR_CHANNEL_INVALID_MESSAGE): non-objects and arrays, a missing or non-string
 * `type`, undefined, functions, symbols, BigInt, NaN and ±Infinity, objects that are not plain
 * (Date, Map, Buffer, class instances), cycles, nesting deeper than MAX_MESSAGE_DEPTH. Being strict
 * means a message behaves the same on every layer, including those that serialise it.
 */
export function validateMessage(message: unknown): ChannelMessage {
  if (!isPlainObject(message)) throw invalidMessage(`must be a plain object, got ${describe(message)}`);
  if (typeof message.type !== 'string' || message.type === '')
    throw invalidMessage(`needs a non-empty string 'type', got ${describe(message.type)}`);
  return copyJson(message, 'message', new Set(), 0) as ChannelMessage;
}

function copyJson(value: unknown, where: string, ancestors: Set<object>, depth: number): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw invalidMessage(`${where} is ${value}, which JSON cannot hold`);
      return value;
    case 'object':
      break;
    default:
      throw invalidMessage(`${where} is ${describe(value)}, which JSON cannot hold`);
  }
  if (value === null) return null;
  if (depth >= MAX_MESSAGE_DEPTH) throw invalidMessage(`${where} is nested deeper than ${MAX_MESSAGE_DEPTH}`);
  if (ancestors.has(value)) throw invalidMessage(`${where} refers back to itself (a cycle)`);
  ancestors.add(value);
  let copy: JsonValue;
  if (Array.isArray(value)) {
    copy = value.map((item, index) => copyJson(item, `${where}[${index}]`, ancestors, depth + 1));
  } else if (isPlainObject(value)) {
    // fromEntries defines own properties, so a '__proto__' key stays data, never a prototype.
    copy = Object.fromEntries(
      Object.keys(value).map((key) => [key, copyJson(value[key], `${where}.${key}`, ancestors, depth + 1)]),
    );
  } else {
    throw invalidMessage(`${where} is ${describe(value)}; only plain objects and arrays are allowed`);
  }
  ancestors.delete(value);
  return copy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return typeof value === 'bigint'
    ? 'a BigInt'
    : `${typeof value === 'undefined' ? '' : 'a '}${typeof value}`;
}

function invalidMessage(what: string): ChannelLayerTypeError {
  return new ChannelLayerTypeError(`invalid channel layer message: ${what}`, 'ERR_CHANNEL_INVALID_MESSAGE');
}
