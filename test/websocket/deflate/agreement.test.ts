// From an agreement to what each end's native codec is built with: the server compresses under
// the server_* parameters and inflates under the client_* ones, the client the other way round;
// a peer limited to an 8-bit window is inflated with 9 bits.
import { describe, expect, it } from 'vitest';
import { codecSettings, formatAgreement } from '../../../src/websocket/deflate/agreement.ts';
import { resolveDeflateOptions } from '../../../src/websocket/deflate/options.ts';

const agreement = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 10,
  clientMaxWindowBits: 8,
};

describe('codecSettings', () => {
  const options = resolveDeflateOptions(
    { threshold: 64, zlibDeflateOptions: { level: 3, memLevel: 5, strategy: 2 } },
    'server',
  )!;

  it('the server compresses with the server_* parameters and inflates under client_no_context_takeover, always with the full window', () => {
    expect(codecSettings(agreement, 'server', options)).toEqual({
      compress: { windowBits: 10, noContextTakeover: true, level: 3, memLevel: 5, strategy: 2 },
      decompress: { windowBits: 15, noContextTakeover: false },
      threshold: 64,
    });
  });

  it('the client the other way round', () => {
    expect(codecSettings({ ...agreement, clientMaxWindowBits: 12 }, 'client', options)).toEqual({
      compress: { windowBits: 12, noContextTakeover: false, level: 3, memLevel: 5, strategy: 2 },
      decompress: { windowBits: 15, noContextTakeover: true },
      threshold: 64,
    });
  });
});

describe('formatAgreement', () => {
  it('names the takeover parameters agreed and the windows asked to be named', () => {
    expect(formatAgreement(agreement, { server: true, client: true })).toBe(
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8',
    );
    expect(
      formatAgreement(
        { ...agreement, serverNoContextTakeover: false, clientNoContextTakeover: true },
        { server: false, client: false },
      ),
    ).toBe('permessage-deflate; client_no_context_takeover');
  });
});
