// Per-thread free lists for libevent's power-of-two allocations; see libevent_allocator.h.
#include "libevent_allocator.h"

#include <event2/event.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace node_bufferevent {

namespace {

// Every block starts with a header recording its class, 16 bytes so the payload stays 16-aligned.
struct alignas(16) BlockHeader {
  size_t capacity;  // usable bytes after the header
  int size_class;   // index into the free lists, or -1 when not cached
};
static_assert(sizeof(BlockHeader) == 16, "the header keeps payloads 16-byte aligned");

constexpr int kSmallestClassShift = 9;  // 512 bytes
constexpr int kLargestClassShift = 16;  // 64 KiB: evbuffer chains
constexpr int kClasses = kLargestClassShift - kSmallestClassShift + 1;
constexpr size_t kCachedBytesPerClass = 4 * 1024 * 1024;

int ClassFor(size_t size) {
  if (size == 0 || size > (size_t{1} << kLargestClassShift)) return -1;
  if ((size & (size - 1)) != 0)
    return -1;  // only exact powers of two: what evbuffer chains ask for
  int shift = 0;
  while ((size_t{1} << shift) < size) shift++;
  return shift < kSmallestClassShift ? -1 : shift - kSmallestClassShift;
}

struct FreeLists {
  std::vector<BlockHeader*> lists[kClasses];
  ~FreeLists() {
    for (auto& list : lists) {
      for (BlockHeader* block : list) std::free(block);
    }
  }
};

thread_local FreeLists free_lists;

void* Allocate(size_t size) {
  int size_class = ClassFor(size);
  if (size_class >= 0 && !free_lists.lists[size_class].empty()) {
    BlockHeader* block = free_lists.lists[size_class].back();
    free_lists.lists[size_class].pop_back();
    return block + 1;
  }
  auto* block = static_cast<BlockHeader*>(std::malloc(sizeof(BlockHeader) + size));
  if (block == nullptr) return nullptr;
  block->capacity = size;
  block->size_class = size_class;
  return block + 1;
}

void Free(void* pointer) {
  if (pointer == nullptr) return;
  BlockHeader* block = static_cast<BlockHeader*>(pointer) - 1;
  if (block->size_class >= 0) {
    auto& list = free_lists.lists[block->size_class];
    if (list.size() * block->capacity < kCachedBytesPerClass) {
      list.push_back(block);
      return;
    }
  }
  std::free(block);
}

[[maybe_unused]] void* Reallocate(void* pointer, size_t size) {
  if (pointer == nullptr) return Allocate(size);
  BlockHeader* block = static_cast<BlockHeader*>(pointer) - 1;
  if (size <= block->capacity) return pointer;
  void* grown = Allocate(size);
  if (grown == nullptr) return nullptr;
  std::memcpy(grown, pointer, block->capacity);
  Free(pointer);
  return grown;
}

}  // namespace

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
