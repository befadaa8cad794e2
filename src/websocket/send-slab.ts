// The send slab: frames a 'message' listener (or any listener of a socket's own events) sends to
// its own socket are written here, in JavaScript, instead of through a call into the addon each.
// That call, with napi's checks of its arguments and the number it returns, was about a sixth of a
// small-message echo's CPU time. The addon takes the frames when the listener returns, or before
// anything else reaches it (another send, a close, a publish, bufferedAmount), so they keep their
// place among the socket's frames (native/ws/send_slab.h has the contract).
//
// Only what needs no native state is written here: a server socket's whole (FIN) text or binary
// frame, unmasked and uncompressed, of at most SLAB_MAX_PAYLOAD bytes. Everything else goes the
// usual way, which first hands the slab's frames over.
import { Buffer } from 'node:buffer';
import { native } from '../native.ts';

/** The largest payload written here; a larger one is kept by reference by the native send. */
export const SLAB_MAX_PAYLOAD = 8 * 1024;
const USED = 0;
const QUEUED = 1;

// The slab and its two cells, made by the addon once per environment (every copy of this module gets
// the same ones): state[USED] is how many bytes of frames the slab holds, state[QUEUED] what the
// socket being dispatched to had queued when the addon last looked (its dispatch started, or it took
// the slab's frames, or a native send or publish reached it).
const [slab, state] = native.wsSendSlab();
const SLAB_BYTES = slab.length;

/**
 * Writes one frame of `payload` for the socket being dispatched to. Returns what the socket then
 * has queued, or -1 when the frame was not written: the slab is full, or `limit` (maxBufferedBytes,
 * -1 for none) would be passed, which the native send then decides and reports.
 */
export function writeSlabFrame(payload: Buffer, binary: boolean, limit: number): number {
  const length = payload.length;
  const used = state[USED]!;
  const start = used + (length < 126 ? 2 : 4);
  const end = start + length;
  const queued = state[QUEUED]! + end;
  // The native send's test: the bytes queued before this frame, plus its payload.
  if (end > SLAB_BYTES || (limit >= 0 && queued - (start - used) > limit)) return -1;
  slab[used] = binary ? 0x82 : 0x81;
  if (length < 126) {
    slab[used + 1] = length;
  } else {
    slab[used + 1] = 126;
    slab[used + 2] = length >>> 8;
    slab[used + 3] = length & 0xff;
  }
  slab.set(payload, start);
  state[USED] = end;
  return queued;
}
