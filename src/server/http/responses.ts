// Answers of the bundled server's page handlers, with the headers every page gets: a strict
// Content-Security-Policy (scripts and styles only from this origin, so a message or log line that
// slipped through unescaped still could not run), no caching of pages, no framing.
import type { ServerResponse } from 'node:http';

const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
});

export function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string | string[]> = {},
): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'cache-control': 'no-store',
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

export function sendHtml(
  response: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string | string[]> = {},
): void {
  send(response, status, 'text/html; charset=utf-8', html, headers);
}

export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);
}

export function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string | string[]> = {},
): void {
  send(response, status, 'text/plain; charset=utf-8', text, headers);
}

/** 303 See Other: after a form POST the browser GETs `location`. */
export function redirect(
  response: ServerResponse,
  location: string,
  headers: Record<string, string | string[]> = {},
): void {
  send(response, 303, 'text/plain; charset=utf-8', `See ${location}\n`, { location, ...headers });
}

/** Text safe inside HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Fills `{{name}}` placeholders with HTML-escaped values; unknown placeholders become ''. */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{([a-zA-Z]+)\}\}/g, (_match, name: string) => escapeHtml(values[name] ?? ''));
}
