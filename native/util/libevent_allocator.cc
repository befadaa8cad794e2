// Per-thread free lists for libevent's power-of-two allocations; see libevent_allocator.h.
#include "libevent_allocator.h"

#include <event2/event.h>
#include <malloc.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace node_bufferevent {

namespace {

// No header in front of the blocks: a 16-byte one on each of the seven blocks a socket bufferevent
// holds was about 5% of an idle WebSocket connection's memory. A block's class is found again
// from glibc's usable size, which for malloc(2^k) is 2^k plus at most one alignment step.
constexpr int kSmallestClassShift = 9;  // 512 bytes
constexpr int kLargestClassShift = 16;  // 64 KiB: evbuffer chains
constexpr int kClasses = kLargestClassShift - kSmallestClassShift + 1;
constexpr size_t kCachedBytesPerClass = 4 * 1024 * 1024;
constexpr size_t kUsableSlack = 16;  // malloc(n) gives at most n + 15 usable bytes below mmap sizes

// The class of a request: only exact powers of two, what evbuffer chains ask for.
int ClassForRequest(size_t size) {
  if (size < (size_t{1} << kSmallestClassShift) || size > (size_t{1} << kLargestClassShift)) {
    return -1;
  }
  if ((size & (size - 1)) != 0) return -1;
  int shift = kSmallestClassShift;
  while ((size_t{1} << shift) < size) shift++;
  return shift - kSmallestClassShift;
}

// The class a freed block can serve again: the power of two its usable size covers. A block that
// was not allocated for a class can land in one too, which is harmless: it is at least that big.
int ClassForUsable(size_t usable) {
  for (int shift = kLargestClassShift; shift >= kSmallestClassShift; shift--) {
    size_t size = size_t{1} << shift;
    if (usable >= size) return usable < size + kUsableSlack ? shift - kSmallestClassShift : -1;
  }
  return -1;
}

struct FreeLists {
  std::vector<void*> lists[kClasses];
  // The fewest blocks each list held since the last trim: that many were not needed meanwhile.
  size_t unused_since_trim[kClasses] = {};
  size_t cached_blocks = 0;
  ~FreeLists() {
    for (auto& list : lists) {
      for (void* block : list) std::free(block);
    }
  }
};

thread_local FreeLists free_lists;

void* Allocate(size_t size) {
  int size_class = ClassForRequest(size);
  if (size_class >= 0 && !free_lists.lists[size_class].empty()) {
    auto& list = free_lists.lists[size_class];
    void* block = list.back();
    list.pop_back();
    free_lists.cached_blocks--;
    size_t& unused = free_lists.unused_since_trim[size_class];
    if (list.size() < unused) unused = list.size();
    return block;
  }
  return std::malloc(size);
}

void Free(void* pointer) {
  if (pointer == nullptr) return;
  int size_class = ClassForUsable(malloc_usable_size(pointer));
  if (size_class >= 0) {
    auto& list = free_lists.lists[size_class];
    if ((list.size() << (size_class + kSmallestClassShift)) < kCachedBytesPerClass) {
      list.push_back(pointer);
      free_lists.cached_blocks++;
      return;
    }
  }
  std::free(pointer);
}

[[maybe_unused]] void* Reallocate(void* pointer, size_t size) {
  if (pointer == nullptr) return Allocate(size);
  size_t usable = malloc_usable_size(pointer);
  if (size <= usable) return pointer;
  void* grown = Allocate(size);
  if (grown == nullptr) return nullptr;
  std::memcpy(grown, pointer, usable);
  Free(pointer);
  return grown;
}

}  // namespace

bool LibeventFreeListsHoldBlocks() { return free_lists.cached_blocks > 0; }

size_t LibeventFreeListBytes() {
  size_t bytes = 0;
  for (int size_class = 0; size_class < kClasses; size_class++) {
    bytes += free_lists.lists[size_class].size() << (size_class + kSmallestClassShift);
  }
  return bytes;
}

size_t TrimLibeventFreeLists() {
  size_t freed_bytes = 0;
  for (int size_class = 0; size_class < kClasses; size_class++) {
    auto& list = free_lists.lists[size_class];
    size_t unused = std::min(free_lists.unused_since_trim[size_class], list.size());
    // The oldest blocks go: the ones at the back are the most recently used, likeliest in cache.
    for (size_t i = 0; i < unused; i++) std::free(list[i]);
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(unused));
    if (list.empty()) list.shrink_to_fit();
    free_lists.cached_blocks -= unused;
    freed_bytes += unused << (size_class + kSmallestClassShift);
    free_lists.unused_since_trim[size_class] = list.size();
  }
  return freed_bytes;
}

size_t EmptyLibeventFreeLists() {
  size_t freed_bytes = LibeventFreeListBytes();
  for (int size_class = 0; size_class < kClasses; size_class++) {
    auto& list = free_lists.lists[size_class];
    for (void* block : list) std::free(block);
    list.clear();
    list.shrink_to_fit();
    free_lists.unused_since_trim[size_class] = 0;
  }
  free_lists.cached_blocks = 0;
  return freed_bytes;
}

// Whether libevent allocates through us; LibeventFree must match whichever allocator it used.
static bool allocator_installed = false;

// Under AddressSanitizer every libevent allocation goes to (instrumented) malloc instead, so a use
// of freed libevent memory is caught rather than landing in a recycled block.
void InstallLibeventAllocator() {
#ifndef BUFFEREVENT_SANITIZE_BUILD
  static std::once_flag installed;
  std::call_once(installed, [] {
    event_set_mem_functions(Allocate, Reallocate, Free);
    allocator_installed = true;
  });
#endif
}

void LibeventFree(void* pointer) {
  if (allocator_installed) {
    Free(pointer);
  } else {
    std::free(pointer);
  }
}

}  // namespace node_bufferevent
