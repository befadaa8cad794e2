// libevent's allocator (event_set_mem_functions): evbuffer chains are freed and allocated for every
// message, and with glibc that trims and regrows the heap (brk) and faults pages back in, which was
// ~20% of a busy echo server's time. Power-of-two blocks up to 64 KiB are kept in bounded
// per-thread free lists instead; everything else goes to malloc. What a burst left in them is given
// back once it has gone unused for a while (TrimLibeventFreeLists), so that an idle server's memory
// is what its connections hold, not what its busiest moment needed.
#pragma once

#include <cstddef>

namespace node_bufferevent {

// Installs the allocator once per process, before libevent allocates anything.
void InstallLibeventAllocator();

// Whether this thread's free lists hold any block, and how many bytes they hold.
bool LibeventFreeListsHoldBlocks();
size_t LibeventFreeListBytes();

// Frees the blocks that stayed in this thread's free lists, unused, since the last call (the fewest
// each list held in between), and starts the next such period. Returns the bytes freed. Called
// from a timer while the lists hold blocks: under steady traffic only the surplus goes, and two
// calls after the traffic stops the lists are empty.
size_t TrimLibeventFreeLists();

// Frees every block in this thread's free lists at once: for when a burst is known to be over.
// Returns the bytes freed.
size_t EmptyLibeventFreeLists();

// Frees memory that libevent returned to us (evbuffer_readln's line): it came from this allocator.
void LibeventFree(void* pointer);

}  // namespace node_bufferevent
