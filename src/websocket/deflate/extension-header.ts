// The Sec-WebSocket-Extensions header (RFC 6455 §9.1): a comma-separated list of extensions, each a
// token with `;`-separated parameters, a parameter being a token with an optional value that is a
// token or a quoted-string (which, unescaped, must itself be a token). Parsing keeps the order of
// extensions and parameters and keeps repeats: what a repeated parameter means is for the extension
// to decide (permessage-deflate declines such an offer). Names are lower-cased: the comparisons
// that follow are case-insensitive, as HTTP tokens usually are.

export interface ExtensionParameter {
  name: string;
  /** The value, unquoted; `true` when the parameter has none. */
  value: string | true;
}

export interface Extension {
  name: string;
  params: ExtensionParameter[];
}

/** The header does not follow the grammar; `position` is the offset of the first offending character. */
export class ExtensionHeaderSyntaxError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at offset ${position}`);
    this.position = position;
  }
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// qdtext and the characters a quoted-pair may escape (RFC 7230 §3.2.6), obs-text included.
const QDTEXT = /[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]/;
const QUOTABLE = /[\t \x21-\x7e\x80-\xff]/;

/** Reads one header value left to right; each read* method consumes what it returns. */
class Scanner {
  position = 0;
  constructor(private readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string {
    return this.text[this.position] ?? '';
  }

  skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  fail(message: string): never {
    throw new ExtensionHeaderSyntaxError(message, this.position);
  }

  readToken(what: string): string {
    const start = this.position;
    while (TOKEN_CHAR.test(this.peek())) this.position++;
    if (start === this.position) {
      this.fail(this.done ? `${what} expected, the header ends` : `${what} expected, found ${this.found()}`);
    }
    return this.text.slice(start, this.position);
  }

  readQuoted(): string {
    const open = this.position;
    this.position++; // the opening quote
    let value = '';
    for (;;) {
      const char = this.peek();
      if (char === '') {
        this.position = open;
        this.fail('unterminated quoted-string');
      }
      if (char === '"') break;
      if (char === '\\') {
        this.position++;
        const escaped = this.peek();
        if (escaped === '' || !QUOTABLE.test(escaped)) this.fail('invalid escape in a quoted-string');
        value += escaped;
      } else if (QDTEXT.test(char)) {
        value += char;
      } else {
        this.fail(`invalid character ${this.found()} in a quoted-string`);
      }
      this.position++;
    }
    this.position++; // the closing quote
    if (!TOKEN.test(value)) {
      this.position = open;
      this.fail(`the quoted value ${JSON.stringify(value)} is not a token`);
    }
    return value;
  }

  found(): string {
    return JSON.stringify(this.peek());
  }
}

function readParameter(scanner: Scanner): ExtensionParameter {
  const name = scanner.readToken('a parameter name').toLowerCase();
  scanner.skipSpace();
  if (scanner.peek() !== '=') return { name, value: true };
  scanner.position++;
  scanner.skipSpace();
  const value = scanner.peek() === '"' ? scanner.readQuoted() : scanner.readToken('a parameter value');
  return { name, value };
}

/**
 * Parses a header value (several header lines joined with ", ", or an array of them). Empty list
 * elements are skipped (RFC 7230 §7); an empty header gives no extensions. Throws an
 * ExtensionHeaderSyntaxError naming the offset of the first character that breaks the grammar.
 */
export function parseExtensions(header: string | readonly string[]): Extension[] {
  const scanner = new Scanner(typeof header === 'string' ? header : header.join(', '));
  const extensions: Extension[] = [];
  for (;;) {
    scanner.skipSpace();
    if (scanner.done) return extensions;
    if (scanner.peek() === ',') {
      scanner.position++;
      continue;
    }
    const extension: Extension = { name: scanner.readToken('an extension name').toLowerCase(), params: [] };
    scanner.skipSpace();
    while (scanner.peek() === ';') {
      scanner.position++;
      scanner.skipSpace();
      extension.params.push(readParameter(scanner));
      scanner.skipSpace();
    }
    extensions.push(extension);
    if (!scanner.done && scanner.peek() !== ',')
      scanner.fail(`"," or ";" expected, found ${scanner.found()}`);
  }
}

/** One extension as a header element: `name; param; param=value` (values are tokens, unquoted). */
export function formatExtension(extension: Extension): string {
  return [
    extension.name,
    ...extension.params.map((param) => (param.value === true ? param.name : `${param.name}=${param.value}`)),
  ].join('; ');
}
