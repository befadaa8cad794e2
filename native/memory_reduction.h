// Giving memory back, V8's and the binding's, when a burst is over (see memory_reduction.cc).
#ifndef NODE_BUFFEREVENT_MEMORY_REDUCTION_H_
#define NODE_BUFFEREVENT_MEMORY_REDUCTION_H_

#include <node_api.h>

namespace node_bufferevent {

// reduceMemory(): starts a memory-reducing full collection of this thread's V8 heap. Returns
// nothing; the collection runs incrementally, in V8's own tasks on the event loop.
napi_value ReduceMemoryFromJs(napi_env env, napi_callback_info info);

// releaseFreeMemory(): empties this thread's cache of freed evbuffer chains and asks glibc to give
// the free pages in its heap back to the system (malloc_trim).
napi_value ReleaseFreeMemoryFromJs(napi_env env, napi_callback_info info);

}  // namespace node_bufferevent

#endif  // NODE_BUFFEREVENT_MEMORY_REDUCTION_H_
