// Reading a small urlencoded form body (the login and logout forms) with a size cap, so a client
// cannot make the server buffer an unbounded POST.
import type { IncomingMessage } from 'node:http';

export class FormTooLarge extends Error {}

/** The fields of an `application/x-www-form-urlencoded` body of at most `maxBytes`; throws FormTooLarge. */
export function readForm(request: IncomingMessage, maxBytes: number): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      request.resume();
      reject(new FormTooLarge(`the form is larger than ${maxBytes} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.destroy();
        reject(new FormTooLarge(`the form is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    request.on('error', reject);
  });
}
