// evbuffer methods with Buffer interop: outgoing large Buffers are added by reference, reads copy
// exactly once from libevent's chains into a new Buffer.
#include "evbuffer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "addon.h"
#include "util/errors.h"
#include "util/libevent_allocator.h"
#include "util/napi_checked.h"

namespace node_bufferevent {

namespace {

// Below this, copying is cheaper than a napi reference and a libevent reference chain.
constexpr size_t kAddByReferenceThreshold = 16 * 1024;

struct HeldBuffer {
  napi_env env;
  napi_ref ref;
};

void ReleaseHeldBuffer(const void*, size_t, void* extra) {
  auto* held = static_cast<HeldBuffer*>(extra);
  napi_delete_reference(held->env, held->ref);
  delete held;
}

size_t ClampCount(const Napi::Value& value, size_t available) {
  if (value.IsUndefined()) return available;
  double wanted = value.As<Napi::Number>().DoubleValue();
  if (wanted < 0) return available;
  return wanted < static_cast<double>(available) ? static_cast<size_t>(wanted) : available;
}

Napi::Value FailedOperation(Napi::Env env, const char* operation) {
  return ThrowError(env, "ERR_EVBUFFER_FROZEN",
                    std::string(operation) +
                        " failed: this side of the evbuffer is frozen (a bufferevent's input only "
                        "takes data from libevent, and its output only gives data to libevent)");
}

}  // namespace

Napi::Function EvBufferWrap::Init(Napi::Env env, Addon& addon) {
  Napi::Function constructor =
      DefineClass(env, "EvBuffer",
                  {
                      InstanceGetter<&EvBufferWrap::Length>("length"),
                      InstanceMethod<&EvBufferWrap::Add>("add"),
                      InstanceMethod<&EvBufferWrap::AddBuffer>("addBuffer"),
                      InstanceMethod<&EvBufferWrap::Prepend>("prepend"),
                      InstanceMethod<&EvBufferWrap::Remove>("remove"),
                      InstanceMethod<&EvBufferWrap::Drain>("drain"),
                      InstanceMethod<&EvBufferWrap::CopyOut>("copyOut"),
                      InstanceMethod<&EvBufferWrap::Pullup>("pullup"),
                      InstanceMethod<&EvBufferWrap::Search>("search"),
                      InstanceMethod<&EvBufferWrap::ReadLine>("readLine"),
                      InstanceMethod<&EvBufferWrap::AddFile>("addFile"),
                      InstanceMethod<&EvBufferWrap::WriteTo>("writeTo"),
                      InstanceMethod<&EvBufferWrap::ReadFrom>("readFrom"),
                      InstanceMethod<&EvBufferWrap::Free>("free"),
                  });
  addon.evbuffer_constructor = Napi::Persistent(constructor);
  return constructor;
}

Napi::Object EvBufferWrap::NewView(Napi::Env env, evbuffer* buffer, EvBufferWrap** back_pointer,
                                   bool frozen_start, bool frozen_end) {
  Napi::Value external = NewExternal(env, buffer);
  if (external.IsEmpty()) return Napi::Object();  // refused: the worker is being terminated
  Napi::Object object = NewInstance(env, Addon::Of(env).evbuffer_constructor.Value(), {external});
  if (object.IsEmpty()) return object;  // refused: the worker is being terminated
  EvBufferWrap* view = UnwrapChecked<EvBufferWrap>(env, object, "view");
  if (view == nullptr) return Napi::Object();
  view->frozen_start_ = frozen_start;
  view->frozen_end_ = frozen_end;
  view->back_pointer_ = back_pointer;
  *back_pointer = view;
  return object;
}

EvBufferWrap::EvBufferWrap(const Napi::CallbackInfo& info)
    : NativeObject(info, ObjectKind::kEvBuffer) {
  if (loop() == nullptr) return;  // ERR_LOOP_INIT is pending
  if (info.Length() > 0 && info[0].IsExternal()) {
    buffer_ = info[0].As<Napi::External<evbuffer>>().Data();
  } else {
    buffer_ = evbuffer_new();
    owned_ = true;
  }
}

EvBufferWrap::~EvBufferWrap() { Close(); }

void EvBufferWrap::ReleaseNative() {
  if (owned_ && buffer_ != nullptr) evbuffer_free(buffer_);
  buffer_ = nullptr;
  if (back_pointer_ != nullptr) *back_pointer_ = nullptr;
  back_pointer_ = nullptr;
}

void EvBufferWrap::Invalidate() {
  back_pointer_ = nullptr;
  buffer_ = nullptr;
  Close();
}

bool EvBufferWrap::CheckUsable(Napi::Env env) {
  if (buffer_ != nullptr) return true;
  ThrowError(env, "ERR_FREED",
             owned_ ? "this EvBuffer was freed"
                    : "this EvBuffer belonged to a bufferevent that was freed");
  return false;
}

bool EvBufferWrap::CheckStartMovable(Napi::Env env, const char* operation) {
  if (!CheckUsable(env)) return false;
  if (!frozen_start_) return true;
  FailedOperation(env, operation);
  return false;
}

bool EvBufferWrap::CheckEndAppendable(Napi::Env env, const char* operation) {
  if (!CheckUsable(env)) return false;
  if (!frozen_end_) return true;
  FailedOperation(env, operation);
  return false;
}

int EvBufferWrap::AddJsBufferRange(Napi::Env env, evbuffer* target, Napi::Buffer<uint8_t> data,
                                   size_t offset) {
  return AddHeldBytes(env, target, data, data.Data() + offset, data.Length() - offset);
}

int EvBufferWrap::AddHeldBytes(napi_env env, evbuffer* target, napi_value owner,
                               const uint8_t* start, size_t length) {
  if (length < kAddByReferenceThreshold) return evbuffer_add(target, start, length);
  auto* held = new HeldBuffer{env, nullptr};
  napi_create_reference(env, owner, 1, &held->ref);
  int result = evbuffer_add_reference(target, start, length, ReleaseHeldBuffer, held);
  if (result != 0) ReleaseHeldBuffer(nullptr, 0, held);
  return result;
}

Napi::Value EvBufferWrap::Length(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), static_cast<double>(evbuffer_get_length(buffer_)));
}

Napi::Value EvBufferWrap::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (AddJsBuffer(env, buffer_, info[0].As<Napi::Buffer<uint8_t>>()) != 0)
    return FailedOperation(env, "add");
  return env.Undefined();
}

Napi::Value EvBufferWrap::AddBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  EvBufferWrap* source = UnwrapChecked<EvBufferWrap>(env, info[0], "source");
  if (source == nullptr || !source->CheckUsable(env)) return Napi::Value();
  if (source == this)
    return ThrowError(env, "ERR_INVALID_ARG", "cannot move an EvBuffer into itself");
  if (evbuffer_add_buffer(buffer_, source->buffer_) != 0) return FailedOperation(env, "addBuffer");
  return env.Undefined();
}

Napi::Value EvBufferWrap::Prepend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  auto data = info[0].As<Napi::Buffer<uint8_t>>();
  if (evbuffer_prepend(buffer_, data.Data(), data.Length()) != 0)
    return FailedOperation(env, "prepend");
  return env.Undefined();
}

Napi::Value EvBufferWrap::Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  size_t count = ClampCount(info[0], evbuffer_get_length(buffer_));
  auto result = NewBuffer(env, count);
  if (result.IsEmpty()) return Napi::Value();  // refused: the worker is being terminated
  if (count > 0 && evbuffer_remove(buffer_, result.Data(), count) < 0)
    return FailedOperation(env, "remove");
  return result;
}

Napi::Value EvBufferWrap::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  size_t count = ClampCount(info[0], evbuffer_get_length(buffer_));
  if (evbuffer_drain(buffer_, count) != 0) return FailedOperation(env, "drain");
  return Napi::Number::New(env, static_cast<double>(count));
}

// Peeks rather than evbuffer_copyout, which refuses a buffer frozen at its start (a socket
// bufferevent's output) even though copying out changes nothing.
Napi::Value EvBufferWrap::CopyOut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  size_t count = ClampCount(info[0], evbuffer_get_length(buffer_));
  auto result = NewBuffer(env, count);
  if (result.IsEmpty() || count == 0) return result;  // empty: refused, the worker is terminating
  int chunks = evbuffer_peek(buffer_, static_cast<ev_ssize_t>(count), nullptr, nullptr, 0);
  std::vector<evbuffer_iovec> vectors(static_cast<size_t>(chunks));
  evbuffer_peek(buffer_, static_cast<ev_ssize_t>(count), nullptr, vectors.data(), chunks);
  size_t copied = 0;
  for (const evbuffer_iovec& vector : vectors) {
    size_t take = vector.iov_len < count - copied ? vector.iov_len : count - copied;
    std::memcpy(result.Data() + copied, vector.iov_base, take);
    copied += take;
  }
  return result;
}

Napi::Value EvBufferWrap::Pullup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  size_t count = ClampCount(info[0], evbuffer_get_length(buffer_));
  unsigned char* contiguous = evbuffer_pullup(buffer_, static_cast<ev_ssize_t>(count));
  if (contiguous == nullptr && count > 0) return FailedOperation(env, "pullup");
  return CopyBuffer(env, contiguous, count);  // empty (undefined) when refused
}

Napi::Value EvBufferWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  auto needle = info[0].As<Napi::Buffer<uint8_t>>();
  size_t start = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
  if (start > evbuffer_get_length(buffer_)) return Napi::Number::New(env, -1);
  evbuffer_ptr from;
  evbuffer_ptr_set(buffer_, &from, start, EVBUFFER_PTR_SET);
  evbuffer_ptr found = evbuffer_search(buffer_, reinterpret_cast<const char*>(needle.Data()),
                                       needle.Length(), &from);
  return Napi::Number::New(env, static_cast<double>(found.pos));
}

Napi::Value EvBufferWrap::ReadLine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckStartMovable(env, "readLine")) return Napi::Value();
  auto style = static_cast<evbuffer_eol_style>(info[0].As<Napi::Number>().Int32Value());
  size_t length = 0;
  char* line = evbuffer_readln(buffer_, &length, style);
  if (line == nullptr) return env.Null();
  auto result = CopyBuffer(env, line, length);  // empty (undefined) when refused
  LibeventFree(line);                           // allocated by libevent, so by our allocator
  return result;
}

// Takes ownership of fd: libevent closes it once the segment has been sent or drained.
Napi::Value EvBufferWrap::AddFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckEndAppendable(env, "addFile")) return Napi::Value();  // the fd stays the caller's
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto offset = static_cast<ev_off_t>(info[1].As<Napi::Number>().DoubleValue());
  auto length = static_cast<ev_off_t>(info[2].As<Napi::Number>().DoubleValue());
  if (evbuffer_add_file(buffer_, fd, offset, length) != 0) {
    return ThrowSystemError(env, "ERR_EVBUFFER_ADD_FILE", errno, "evbuffer_add_file",
                            "cannot add the file segment");
  }
  return env.Undefined();
}

Napi::Value EvBufferWrap::WriteTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckStartMovable(env, "writeTo")) return Napi::Value();
  int fd = info[0].As<Napi::Number>().Int32Value();
  ev_ssize_t most = info[1].IsUndefined() ? -1 : info[1].As<Napi::Number>().Int64Value();
  int written = evbuffer_write_atmost(buffer_, fd, most);
  if (written < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, 0);
    return ThrowSystemError(env, "ERR_EVBUFFER_WRITE", errno, "write",
                            "cannot write the evbuffer to the fd");
  }
  return Napi::Number::New(env, written);
}

Napi::Value EvBufferWrap::ReadFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckEndAppendable(env, "readFrom")) return Napi::Value();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int most = info[1].IsUndefined() ? -1 : info[1].As<Napi::Number>().Int32Value();
  int got = evbuffer_read(buffer_, fd, most);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    return ThrowSystemError(env, "ERR_EVBUFFER_READ", errno, "read",
                            "cannot read from the fd into the evbuffer");
  }
  return Napi::Number::New(env, got);
}

Napi::Value EvBufferWrap::Free(const Napi::CallbackInfo& info) {
  if (!owned_ && buffer_ != nullptr) {
    return ThrowError(info.Env(), "ERR_NOT_OWNER",
                      "this EvBuffer belongs to a bufferevent; free the bufferevent instead");
  }
  Close();
  return info.Env().Undefined();
}

}  // namespace node_bufferevent
