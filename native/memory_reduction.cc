// The one place the addon uses V8's own API rather than napi: napi has no way to ask for a
// memory-reducing collection. The addon is built against the running Node's headers at install,
// so the V8 API it calls is the one in the process.
//
// Why it is needed: a burst of handshakes grows V8's young generation (its semi-spaces double each
// time more survives its collections than they hold, up to 32 MiB of space), and V8 gives that
// back only at a full collection that reduces memory or that sees a low allocation rate. Its
// memory reducer, which would run one when the process goes idle, starts only after a full
// collection that grew the old generation's committed memory by 10 MiB (or 10%); a server as lean
// as this one grows it by about 4 MiB for 10,000 connections, so an idle server kept the burst's
// young generation for good (measured: about 0.9 KiB per connection at 10,000). Moderate memory
// pressure is the gentlest request that reduces: incremental marking with the reduce-memory flag
// (ignored while V8 is marking already), not a collection at once; it still ends in one pause, as
// every full collection does. src/websocket/burst-memory.ts decides when to ask.
//
// The native side of a burst goes back at the same moment (ReleaseFreeMemoryFromJs): the evbuffer
// chains the burst's reads and writes left in the allocator's free lists (about 2 MiB after 10,000
// handshakes, which its timer would give back only 2 to 4 s later), and the free pages inside
// glibc's heap.
#include "memory_reduction.h"

#include <malloc.h>
#include <v8.h>

#include "util/libevent_allocator.h"

namespace node_bufferevent {

napi_value ReduceMemoryFromJs(napi_env /*env*/, napi_callback_info /*info*/) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate != nullptr) isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kModerate);
  return nullptr;
}

napi_value ReleaseFreeMemoryFromJs(napi_env /*env*/, napi_callback_info /*info*/) {
  EmptyLibeventFreeLists();
#ifdef __GLIBC__
  malloc_trim(0);
#endif
  return nullptr;
}

}  // namespace node_bufferevent
