// The native object behind each public Bufferevent and EvBuffer, reachable only from inside the
// package: the public classes have no method or property that hands it out, so no caller can pass
// C++ a forged or foreign object. (The addon checks a type tag on every unwrap as well.)
import { BuffereventError } from './errors.ts';
import type { NativeBufferevent, NativeEvBuffer } from './native.ts';

class HandleRegistry<Handle extends object> {
  readonly #handles = new WeakMap<object, Handle>();
  readonly #className: string;

  constructor(className: string) {
    this.#className = className;
  }

  register(owner: object, handle: Handle): void {
    this.#handles.set(owner, handle);
  }

  /** The handle of `value`, or ERR_INVALID_ARG naming `parameter` when `value` is not one of ours. */
  of(value: unknown, parameter: string): Handle {
    const handle = typeof value === 'object' && value !== null ? this.#handles.get(value) : undefined;
    if (handle === undefined) {
      const article = /^[AEIOU]/.test(this.#className) ? 'an' : 'a';
      throw new BuffereventError(`${parameter} must be ${article} ${this.#className}`, 'ERR_INVALID_ARG');
    }
    return handle;
  }

  /** True when `value` was made by the public class (a real class check, not duck typing). */
  owns(value: unknown): boolean {
    return typeof value === 'object' && value !== null && this.#handles.has(value);
  }
}

export const buffereventHandles = new HandleRegistry<NativeBufferevent>('Bufferevent');
export const evbufferHandles = new HandleRegistry<NativeEvBuffer>('EvBuffer');
