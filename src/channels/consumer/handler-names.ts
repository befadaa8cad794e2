// Which consumer method handles a channel-layer message: Channels turns `type: 'chat.message'` into
// the method `chat_message`; JavaScript code names it `chatMessage`. Both are looked up, camelCase
// first. Methods of the consumer base classes (accept, close, send, connect, ...) are never picked,
// so a message type cannot make a consumer close itself or send arbitrary frames.

// A group message is dispatched once per member, so the names of recent types are kept (a bounded
// number: types come from the application, but nothing stops a sender from making up new ones).
const namesByType = new Map<string, readonly string[]>();
const MAX_REMEMBERED_TYPES = 1024;

/** The method names a message `type` may be handled by, in the order they are tried. */
export function handlerNamesOf(type: string): readonly string[] {
  const known = namesByType.get(type);
  if (known !== undefined) return known;
  const snake = type.replaceAll('.', '_');
  const camel = snake.replace(/_+([a-zA-Z0-9])/g, (_match, next: string) => next.toUpperCase());
  const names = Object.freeze(camel === snake ? [snake] : [camel, snake]);
  if (namesByType.size >= MAX_REMEMBERED_TYPES) namesByType.clear();
  namesByType.set(type, names);
  return names;
}

/**
 * The handler for `type` on `consumer`: a function found on the consumer's own class chain above
 * the library's consumer classes (`isBase` says which prototypes those are), or undefined.
 */
export function findHandler(
  consumer: object,
  isBase: (proto: object) => boolean,
  type: string,
): ((message: unknown) => unknown) | undefined {
  for (const name of handlerNamesOf(type)) {
    if (name === 'constructor') continue;
    for (let proto = Object.getPrototypeOf(consumer) as object | null; proto !== null && !isBase(proto);) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (descriptor !== undefined) {
        return typeof descriptor.value === 'function'
          ? (descriptor.value as (message: unknown) => unknown)
          : undefined;
      }
      proto = Object.getPrototypeOf(proto) as object | null;
    }
    // Handlers assigned as instance fields (`chatMessage = async (event) => ...`) count too.
    const own = Object.getOwnPropertyDescriptor(consumer, name);
    if (own !== undefined && typeof own.value === 'function')
      return own.value as (message: unknown) => unknown;
  }
  return undefined;
}
