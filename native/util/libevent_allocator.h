// libevent's allocator (event_set_mem_functions): evbuffer chains are freed and allocated for every
// message, and with glibc that trims and regrows the heap (brk) and faults pages back in, which was
// ~20% of a busy echo server's time. Power-of-two blocks up to 64 KiB are kept in bounded
// per-thread free lists instead; everything else goes to malloc.
#pragma once

#include <cstddef>

namespace node_bufferevent {

// Installs the allocator once per process, before libevent allocates anything.
void InstallLibeventAllocator();

// Frees memory that libevent returned to us (evbuffer_readln's line): it came from this allocator.
void LibeventFree(void* pointer);

}  // namespace node_bufferevent
