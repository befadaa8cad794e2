// Inotify. The records the kernel hands out are variable-length (a fixed header, then `len` bytes
// of NUL-padded name); each is checked against the bytes actually read before it is used, so a
// short or odd read can never make the parser step outside the buffer.
#include "inotify_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "util/errors.h"
#include "util/napi_checked.h"

namespace node_bufferevent {

namespace {

// Every IN_* bit a watch may ask for (events and the IN_ONLYDIR … IN_ONESHOT modifiers).
constexpr uint32_t kWatchMaskBits = IN_ALL_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK |
                                    IN_MASK_CREATE | IN_MASK_ADD | IN_ONESHOT;

// A non-negative integer number from JavaScript no larger than `max`; false for anything else
// (the TypeScript class checks first; this is the second line for direct callers).
bool ToBoundedInteger(Napi::Value value, double max, double* out) {
  if (value.IsEmpty() || !value.IsNumber()) return false;
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 0 && number <= max) ||
      number != static_cast<double>(static_cast<int64_t>(number)))
    return false;
  *out = number;
  return true;
}

}  // namespace

Napi::Function InotifyWrap::Init(Napi::Env env) {
  return DefineClass(env, "Inotify",
                     {
                         InstanceMethod<&InotifyWrap::Fd>("fd"),
                         InstanceMethod<&InotifyWrap::AddWatch>("addWatch"),
                         InstanceMethod<&InotifyWrap::RemoveWatch>("removeWatch"),
                         InstanceMethod<&InotifyWrap::ReadEvents>("readEvents"),
                         InstanceMethod<&InotifyWrap::Close>("close"),
                     });
}

Napi::Object InotifyWrap::Constants(Napi::Env env) {
  Napi::Object result = Napi::Object::New(env);
  auto set = [&](const char* name, uint32_t value) { SetProperty(result, name, value); };
  set("ACCESS", IN_ACCESS);
  set("MODIFY", IN_MODIFY);
  set("ATTRIB", IN_ATTRIB);
  set("CLOSE_WRITE", IN_CLOSE_WRITE);
  set("CLOSE_NOWRITE", IN_CLOSE_NOWRITE);
  set("OPEN", IN_OPEN);
  set("MOVED_FROM", IN_MOVED_FROM);
  set("MOVED_TO", IN_MOVED_TO);
  set("CREATE", IN_CREATE);
  set("DELETE", IN_DELETE);
  set("DELETE_SELF", IN_DELETE_SELF);
  set("MOVE_SELF", IN_MOVE_SELF);
  set("ALL_EVENTS", IN_ALL_EVENTS);
  set("UNMOUNT", IN_UNMOUNT);
  set("Q_OVERFLOW", IN_Q_OVERFLOW);
  set("IGNORED", IN_IGNORED);
  set("ONLYDIR", IN_ONLYDIR);
  set("DONT_FOLLOW", IN_DONT_FOLLOW);
  set("EXCL_UNLINK", IN_EXCL_UNLINK);
  set("MASK_CREATE", IN_MASK_CREATE);
  set("MASK_ADD", IN_MASK_ADD);
  set("ISDIR", IN_ISDIR);
  set("ONESHOT", IN_ONESHOT);
  return result;
}

InotifyWrap::InotifyWrap(const Napi::CallbackInfo& info)
    : NativeObject(info, ObjectKind::kInotify) {
  if (loop() == nullptr) return;  // ERR_LOOP_INIT is pending
  fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    NativeObject::Close();
    ThrowSystemError(info.Env(), "ERR_INOTIFY_INIT", err, "inotify_init1",
                     "cannot create an inotify instance (at the per-user limit "
                     "fs.inotify.max_user_instances, or out of fds?)");
  }
}

InotifyWrap::~InotifyWrap() { NativeObject::Close(); }

void InotifyWrap::ReleaseNative() {
  if (fd_ >= 0) close(fd_);  // removes every watch with it
  fd_ = -1;
}

bool InotifyWrap::CheckUsable(Napi::Env env) {
  if (fd_ >= 0) return true;
  ThrowError(env, "ERR_FREED", "this Inotify was closed");
  return false;
}

Napi::Value InotifyWrap::Fd(const Napi::CallbackInfo& info) {
  if (!CheckUsable(info.Env())) return Napi::Value();
  return Napi::Number::New(info.Env(), fd_);
}

// addWatch(path, mask) → wd
Napi::Value InotifyWrap::AddWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  if (!info[0].IsString()) return ThrowError(env, "ERR_INVALID_ARG", "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos) {
    return ThrowError(env, "ERR_INVALID_ARG", "path must be a non-empty string without NUL bytes");
  }
  double mask = 0;
  if (!ToBoundedInteger(info[1], 0xffffffff, &mask) ||
      (static_cast<uint32_t>(mask) & ~kWatchMaskBits) != 0 ||
      (static_cast<uint32_t>(mask) & IN_ALL_EVENTS) == 0) {
    return ThrowError(env, "ERR_INVALID_ARG",
                      "mask must combine IN.* event bits (at least one event)");
  }
  int wd = inotify_add_watch(fd_, path.c_str(), static_cast<uint32_t>(mask));
  if (wd < 0) {
    return ThrowSystemError(env, "ERR_INOTIFY_WATCH", errno, "inotify_add_watch",
                            "cannot watch " + path);
  }
  return Napi::Number::New(env, wd);
}

// removeWatch(wd)
Napi::Value InotifyWrap::RemoveWatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  double wd = 0;
  if (!ToBoundedInteger(info[0], 0x7fffffff, &wd)) {
    return ThrowError(env, "ERR_INVALID_ARG", "wd must be a watch descriptor from addWatch()");
  }
  if (inotify_rm_watch(fd_, static_cast<int>(wd)) != 0) {
    return ThrowSystemError(env, "ERR_INOTIFY_WATCH", errno, "inotify_rm_watch",
                            "watch " + std::to_string(static_cast<int>(wd)) +
                                " is not active (already removed, or its file is gone)");
  }
  return env.Undefined();
}

// readEvents() → [wd, mask, cookie, name, wd, mask, cookie, name, ...] (flat, one allocation per
// record's name only). Reads until EAGAIN or kMaxBytesPerCall.
Napi::Value InotifyWrap::ReadEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckUsable(env)) return Napi::Value();
  Napi::Array result = Napi::Array::New(env);
  uint32_t index = 0;
  // Aligned for the headers; big enough for the largest record (header + NAME_MAX + 1).
  alignas(struct inotify_event) char buffer[16 * 1024];
  static_assert(sizeof buffer >= sizeof(struct inotify_event) + NAME_MAX + 1);
  size_t total = 0;
  while (total < kMaxBytesPerCall) {
    ssize_t got = read(fd_, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return ThrowSystemError(env, "ERR_INOTIFY_READ", errno, "read",
                              "cannot read the inotify events");
    }
    if (got == 0) break;
    total += static_cast<size_t>(got);
    size_t offset = 0;
    const size_t length = static_cast<size_t>(got);
    while (offset + sizeof(struct inotify_event) <= length) {
      struct inotify_event header;
      std::memcpy(&header, buffer + offset, sizeof header);
      size_t record = sizeof header + header.len;
      if (record > length - offset) break;  // never happens with a sane kernel; never overruns
      const char* name = buffer + offset + sizeof header;
      size_t name_length = header.len == 0 ? 0 : strnlen(name, header.len);
      SetElement(result, index++, Napi::Number::New(env, header.wd));
      SetElement(result, index++, Napi::Number::New(env, header.mask));
      SetElement(result, index++, Napi::Number::New(env, header.cookie));
      SetElement(result, index++, Napi::String::New(env, name, name_length));
      offset += record;
    }
  }
  return result;
}

Napi::Value InotifyWrap::Close(const Napi::CallbackInfo& info) {
  NativeObject::Close();
  return info.Env().Undefined();
}

}  // namespace node_bufferevent
