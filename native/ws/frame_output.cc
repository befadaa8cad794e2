// One sendmsg for header and payload when the output is empty; the rest appended to the output.
// While the connection is corked, everything is appended to the held buffer.
#include "frame_output.h"

#include <event2/buffer.h>
#include <sys/uio.h>

#include "../evbuffer.h"
#include "../event_loop.h"

namespace node_bufferevent::ws {

bool QueueFrame(Napi::Env env, BuffereventWrap* bufferevent, evbuffer* holder, const uint8_t* head,
                size_t head_length, const uint8_t* body, size_t body_length,
                napi_value body_owner) {
  size_t sent = 0;
  if (holder == nullptr) {
    iovec parts[2] = {{const_cast<uint8_t*>(head), head_length},
                      {const_cast<uint8_t*>(body), body_length}};
    sent = bufferevent->WriteThroughParts(parts, body_length > 0 ? 2 : 1);
    if (sent == head_length + body_length) return true;
  }
  evbuffer* output = holder != nullptr ? holder : bufferevent_get_output(bufferevent->bev());
  int status = 0;
  if (sent < head_length) status = evbuffer_add(output, head + sent, head_length - sent);
  size_t body_sent = sent > head_length ? sent - head_length : 0;
  if (status == 0 && body_length > body_sent) {
    status = body_owner != nullptr
                 ? EvBufferWrap::AddHeldBytes(env, output, body_owner, body + body_sent,
                                              body_length - body_sent)
                 : evbuffer_add(output, body + body_sent, body_length - body_sent);
  }
  // A holder is flushed at the end of its batch, which marks the loop then.
  if (holder == nullptr) bufferevent->loop()->MarkDirty();
  return status == 0;
}

}  // namespace node_bufferevent::ws
