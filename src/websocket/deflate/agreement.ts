// What a permessage-deflate negotiation settled (RFC 7692 §7), the response line that states it,
// and what each end's compressor and decompressor must do under it.
import type { DeflateOptions, Role } from './options.ts';
import { formatExtension, type ExtensionParameter } from './extension-header.ts';

export const EXTENSION_NAME = 'permessage-deflate';
/** A window not named in the response is the full 32 KiB one. */
export const DEFAULT_WINDOW_BITS = 15;

export interface DeflateAgreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** The largest window the server compresses with, 8..15 (15 unless named). */
  serverMaxWindowBits: number;
  /** The largest window the client compresses with, 8..15 (15 unless named). */
  clientMaxWindowBits: number;
}

/** Which window parameters the response names; a window the peer asked about must be named. */
export interface NamedWindows {
  server: boolean;
  client: boolean;
}

/** The server's Sec-WebSocket-Extensions answer for an agreement. */
export function formatAgreement(agreement: DeflateAgreement, named: NamedWindows): string {
  const params: ExtensionParameter[] = [];
  if (agreement.serverNoContextTakeover) params.push({ name: 'server_no_context_takeover', value: true });
  if (agreement.clientNoContextTakeover) params.push({ name: 'client_no_context_takeover', value: true });
  if (named.server)
    params.push({ name: 'server_max_window_bits', value: String(agreement.serverMaxWindowBits) });
  if (named.client)
    params.push({ name: 'client_max_window_bits', value: String(agreement.clientMaxWindowBits) });
  return formatExtension({ name: EXTENSION_NAME, params });
}

/** What the native compressor and decompressor of one end are built with. */
export interface CodecSettings {
  compress: {
    windowBits: number;
    /** Reset after each message: the context can go back to a shared pool between messages. */
    noContextTakeover: boolean;
    level: number;
    memLevel: number;
    strategy: number;
  };
  decompress: { windowBits: number; noContextTakeover: boolean };
  /** Messages shorter than this are sent uncompressed. */
  threshold: number;
}

/**
 * The settings of the `role` end. The peer's messages are always inflated with the full 15-bit
 * window, whatever window it agreed to compress with: a larger window is always safe, zlib-based
 * peers asked for 8 really compress with 9, and a peer that reaches further back than it agreed is
 * then accepted the same way however the reads split its messages (with the agreed window, zlib
 * checks the distance only across its calls, so the verdict would depend on the reads).
 */
export function codecSettings(
  agreement: DeflateAgreement,
  role: Role,
  options: DeflateOptions,
): CodecSettings {
  const ours = role === 'server' ? 'server' : 'client';
  const theirs = role === 'server' ? 'client' : 'server';
  return {
    compress: {
      windowBits: agreement[`${ours}MaxWindowBits`],
      noContextTakeover: agreement[`${ours}NoContextTakeover`],
      level: options.level,
      memLevel: options.memLevel,
      strategy: options.strategy,
    },
    decompress: {
      windowBits: DEFAULT_WINDOW_BITS,
      noContextTakeover: agreement[`${theirs}NoContextTakeover`],
    },
    threshold: options.threshold,
  };
}

/** The flat shape the native connection takes its codec settings in (native/ws/connection.h). */
export interface NativeDeflateSettings {
  compressWindowBits: number;
  compressNoContextTakeover: boolean;
  level: number;
  memLevel: number;
  strategy: number;
  decompressWindowBits: number;
  decompressNoContextTakeover: boolean;
  threshold: number;
}

export function nativeDeflateSettings(settings: CodecSettings): NativeDeflateSettings {
  return {
    compressWindowBits: settings.compress.windowBits,
    compressNoContextTakeover: settings.compress.noContextTakeover,
    level: settings.compress.level,
    memLevel: settings.compress.memLevel,
    strategy: settings.compress.strategy,
    decompressWindowBits: settings.decompress.windowBits,
    decompressNoContextTakeover: settings.decompress.noContextTakeover,
    threshold: settings.threshold,
  };
}
