// The browser-style half of the WebSocket API that `ws` also offers: addEventListener /
// removeEventListener with Event-shaped objects, and the onopen/onmessage/onerror/onclose
// attributes. Listeners are EventEmitter listeners wrapped once each, so both styles see the same
// events in the order they were added. Identity follows `ws`: adding the same handler twice for a
// type adds it once; an on<event> attribute is a separate slot that addEventListener never
// replaces and removeEventListener never removes.
import type { EventEmitter } from 'node:events';

const kListener = Symbol('listener');
/** The socket's answer to CloseEvent.wasClean. */
export const cleanClose = Symbol('cleanClose');
const kForAttribute = Symbol('forAttribute');

export type BrowserEventType = 'open' | 'message' | 'error' | 'close';

export class WebSocketEvent {
  readonly type: string;
  readonly target: unknown;
  constructor(type: string, target: unknown) {
    this.type = type;
    this.target = target;
  }
}

export class MessageEvent extends WebSocketEvent {
  /** A string for a text message; for a binary one, what binaryType says. */
  readonly data: unknown;
  constructor(target: unknown, data: unknown) {
    super('message', target);
    this.data = data;
  }
}

export class CloseEvent extends WebSocketEvent {
  readonly code: number;
  readonly reason: string;
  /** Both close frames were exchanged. */
  readonly wasClean: boolean;
  constructor(target: unknown, code: number, reason: string, wasClean: boolean) {
    super('close', target);
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

export class ErrorEvent extends WebSocketEvent {
  readonly error: unknown;
  readonly message: string;
  constructor(target: unknown, error: Error) {
    super('error', target);
    this.error = error;
    this.message = error.message;
  }
}

export type EventHandler = ((event: never) => void) | { handleEvent(event: never): void };
/** What on<type> holds. */
export type AttributeHandler = ((event: never) => void) | null;

interface Wrapper {
  (...args: unknown[]): void;
  [kListener]: EventHandler;
  [kForAttribute]: boolean;
}

/** What the wrappers need from the socket beyond EventEmitter. */
export interface BrowserEventSource extends EventEmitter {
  /** Both close frames were exchanged (CloseEvent.wasClean). */
  [cleanClose](): boolean;
}

function call(handler: EventHandler, target: unknown, event: WebSocketEvent): void {
  if (typeof handler === 'object' && handler !== null && typeof handler.handleEvent === 'function') {
    (handler.handleEvent as (event: WebSocketEvent) => void).call(handler, event);
  } else {
    (handler as (event: WebSocketEvent) => void).call(target, event);
  }
}

function makeEvent(source: BrowserEventSource, type: BrowserEventType, args: unknown[]): WebSocketEvent {
  switch (type) {
    case 'message': {
      const [data, isBinary] = args as [Buffer, boolean];
      return new MessageEvent(source, isBinary ? data : data.toString());
    }
    case 'close':
      return new CloseEvent(source, args[0] as number, String(args[1]), source[cleanClose]());
    case 'error':
      return new ErrorEvent(source, args[0] as Error);
    default:
      return new WebSocketEvent('open', source);
  }
}

function isBrowserEventType(type: string): type is BrowserEventType {
  return type === 'open' || type === 'message' || type === 'error' || type === 'close';
}

export function addEventListener(
  source: BrowserEventSource,
  type: string,
  handler: EventHandler,
  options: { once?: boolean } = {},
  forAttribute = false,
): void {
  if (!isBrowserEventType(type)) return; // as ws: other types are ignored
  if (!forAttribute) {
    for (const listener of source.listeners(type) as Wrapper[]) {
      if (listener[kListener] === handler && !listener[kForAttribute]) return;
    }
  }
  const wrapper = function (this: BrowserEventSource, ...args: unknown[]) {
    call(handler, source, makeEvent(source, type, args));
  } as Wrapper;
  wrapper[kListener] = handler;
  wrapper[kForAttribute] = forAttribute;
  if (options?.once) source.once(type, wrapper);
  else source.on(type, wrapper);
}

export function removeEventListener(source: BrowserEventSource, type: string, handler: EventHandler): void {
  for (const listener of source.listeners(type) as Wrapper[]) {
    if (listener[kListener] === handler && !listener[kForAttribute]) {
      source.removeListener(type, listener);
      return;
    }
  }
}

/** The handler set through on<type>, or null. */
export function getAttributeHandler(source: BrowserEventSource, type: BrowserEventType): unknown {
  for (const listener of source.listeners(type) as Wrapper[]) {
    if (listener[kForAttribute]) return listener[kListener];
  }
  return null;
}

/** on<type> = handler: replaces the previous attribute handler; a non-function just removes it. */
export function setAttributeHandler(
  source: BrowserEventSource,
  type: BrowserEventType,
  handler: unknown,
): void {
  for (const listener of source.listeners(type) as Wrapper[]) {
    if (listener[kForAttribute]) {
      source.removeListener(type, listener);
      break;
    }
  }
  if (typeof handler === 'function') addEventListener(source, type, handler as EventHandler, {}, true);
}

/**
 * Gives a socket class's prototype addEventListener, removeEventListener and the enumerable
 * onopen/onmessage/onerror/onclose accessors, as ws's prototype has them.
 */
export function installBrowserApi(prototype: BrowserEventSource): void {
  for (const type of ['open', 'error', 'close', 'message'] as const) {
    Object.defineProperty(prototype, `on${type}`, {
      enumerable: true,
      configurable: true,
      get(this: BrowserEventSource) {
        return getAttributeHandler(this, type);
      },
      set(this: BrowserEventSource, handler: unknown) {
        setAttributeHandler(this, type, handler);
      },
    });
  }
  Object.assign(prototype, {
    addEventListener(
      this: BrowserEventSource,
      type: string,
      handler: EventHandler,
      options?: { once?: boolean },
    ) {
      addEventListener(this, type, handler, options);
    },
    removeEventListener(this: BrowserEventSource, type: string, handler: EventHandler) {
      removeEventListener(this, type, handler);
    },
  });
}
