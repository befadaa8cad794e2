// The message mode of deflate_session_fuzz.cc: a permessage-deflate peer built on zlib alone (not
// on the production codec), turning the fuzz input's list of records into the bytes such a peer
// sends, plus what each record was, so the fuzzer can tell what the session must report. Messages
// are compressed as RFC 7692 §7.2.1 says (raw DEFLATE, a sync flush whose 00 00 ff ff tail is
// stripped) or ended with a final block (§7.2.3.4 allows BFINAL), split into fragments with pings
// between them, masked when the session is a server. Some are damaged on purpose: a bit flipped,
// bytes cut off or added, RSV1 where RFC 7692 §6 forbids it.
//
// One record, from the input:
//   byte 0: bits 0-1 kind (0 text, 1 binary, 2 ping, 3 pong); bit 2 compressed (data) or RSV1 set
//           (control: the session must fail); bits 3-4 fragments (1, 2, 3, 8); bit 5 pings between
//           the fragments (data) or a close frame instead (control); bit 6 text made ASCII; bit 7
//           ended with a final block instead of a sync flush;
//   byte 1: bits 0-2 damage (0-3 none, 4 a bit flipped, 5 bytes cut off the end, 6 RSV1 on a
//           continuation frame, 7 bytes added at the end, or an empty message sent as no bytes at
//           all); bits 3-7 the damage's parameter;
//   byte 2: content length n; byte 3: how often the content repeats (up to thousands of times,
//           which makes highly compressible messages that inflate past small maxPayloads);
//   then n content bytes.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace node_bufferevent::ws::fuzz {

struct PeerSettings {
  bool masks = false;  // the session is a server: the peer (a client) masks its frames
  int window_bits = 15;
  bool context_takeover = true;  // the peer's compressor keeps its history between messages
  int level = Z_DEFAULT_COMPRESSION;
  int strategy = Z_DEFAULT_STRATEGY;
  uint32_t seed = 1;
};

// What one record became on the wire.
struct SentItem {
  enum Kind : uint8_t { kPing, kPong, kClose, kMessage } kind = kMessage;
  std::string payload;  // control: the payload (close: the reason); message: the plaintext
  uint16_t close_code = 0;
  bool binary = false;
  bool compressed = false;
  bool damaged = false;         // compressed bytes were altered: any outcome within the rules
  bool rsv1_violation = false;  // RSV1 on a control or continuation frame: must fail
  std::vector<std::string> pings_between;  // sent between the message's fragments, in order
  uint32_t fragments = 1;
  uint64_t wire_bytes = 0;  // payload bytes of all the message's frames
};

class DeflatePeer {
 public:
  // Plaintext bytes per input at most, so one input stays fast while zip bombs stay possible.
  static constexpr size_t kPlaintextBudget = size_t{1} << 17;

  explicit DeflatePeer(const PeerSettings& settings)
      : settings_(settings), random_(settings.seed | 1) {
    initialised_ = deflateInit2(&zlib_, settings.level, Z_DEFLATED, -settings.window_bits, 8,
                                settings.strategy) == Z_OK;
  }
  ~DeflatePeer() {
    if (initialised_) deflateEnd(&zlib_);
  }
  DeflatePeer(const DeflatePeer&) = delete;
  DeflatePeer& operator=(const DeflatePeer&) = delete;

  // Turns records into bytes() and items(); returns false when zlib could not start.
  bool Build(const uint8_t* data, size_t size) {
    if (!initialised_) return false;
    size_t at = 0;
    while (size - at >= 4) {
      const uint8_t* record = data + at;
      size_t length = std::min<size_t>(record[2], size - at - 4);
      std::string content(reinterpret_cast<const char*>(record + 4), length);
      at += 4 + length;
      if ((record[0] & 3) < 2) {
        AddMessage(record, content);
      } else if (!AddControl(record, content)) {
        break;  // a close frame: nothing the peer sends after it matters
      }
    }
    return true;
  }

  const std::string& bytes() const { return bytes_; }
  const std::vector<SentItem>& items() const { return items_; }

 private:
  uint32_t Next() {
    random_ ^= random_ << 13;
    random_ ^= random_ >> 17;
    random_ ^= random_ << 5;
    return random_;
  }

  void AddMessage(const uint8_t* record, const std::string& content) {
    SentItem item;
    item.kind = SentItem::kMessage;
    item.binary = record[0] & 1;
    item.compressed = record[0] & 4;
    static constexpr uint32_t kFragments[] = {1, 2, 3, 8};
    item.fragments = kFragments[(record[0] >> 3) & 3];
    const bool final_block = record[0] & 0x80;
    const unsigned damage = record[1] & 7;
    const unsigned parameter = record[1] >> 3;
    unsigned repeat = 1 + record[3] + (record[3] >= 128 ? (record[3] - 127) * 64u : 0);
    if (!content.empty()) {
      repeat = std::min<size_t>(repeat, (kPlaintextBudget - plaintext_used_) / content.size());
    }
    for (unsigned i = 0; i < repeat; ++i) item.payload += content;
    plaintext_used_ += item.payload.size();
    if (!item.binary && (record[0] & 0x40)) {
      for (char& c : item.payload) c = static_cast<char>(c & 0x7F);
    }

    std::string payload = item.compressed ? Compress(item.payload, final_block) : item.payload;
    if (item.compressed && damage == 4 && !payload.empty()) {
      payload[Next() % payload.size()] ^= static_cast<char>(1 << (parameter & 7));
      item.damaged = true;
    } else if (item.compressed && damage == 5 && !payload.empty()) {
      payload.resize(payload.size() - 1 - parameter % payload.size());
      item.damaged = true;
    } else if (item.compressed && damage == 7) {
      // An empty message may be sent as no compressed bytes at all; otherwise junk is added.
      if (item.payload.empty()) {
        payload.clear();
      } else {
        for (unsigned i = 0; i <= parameter % 4; ++i) payload += static_cast<char>(Next());
        item.damaged = true;
      }
    } else if (damage == 6) {
      item.rsv1_violation = true;
      item.fragments = std::max<uint32_t>(item.fragments, 2);
    }

    // Fragment boundaries at random points (fragments may be empty).
    std::vector<size_t> cuts{0, payload.size()};
    for (uint32_t i = 1; i < item.fragments; ++i) {
      cuts.push_back(payload.empty() ? 0 : Next() % (payload.size() + 1));
    }
    std::sort(cuts.begin(), cuts.end());
    for (uint32_t i = 0; i < item.fragments; ++i) {
      if (i > 0 && (record[0] & 0x20)) {
        std::string ping = "between " + std::to_string(items_.size()) + "/" + std::to_string(i);
        AddFrame(true, false, 0x9, ping);
        item.pings_between.push_back(ping);
      }
      bool rsv1 = i == 0 ? item.compressed : (item.rsv1_violation && i == 1);
      uint8_t opcode = i > 0 ? 0x0 : item.binary ? 0x2 : 0x1;
      AddFrame(i + 1 == item.fragments, rsv1, opcode,
               payload.substr(cuts[i], cuts[i + 1] - cuts[i]));
    }
    item.wire_bytes = payload.size();
    items_.push_back(std::move(item));
  }

  // Returns false after a close frame.
  bool AddControl(const uint8_t* record, const std::string& content) {
    SentItem item;
    item.rsv1_violation = record[0] & 4;
    if (record[0] & 0x20) {
      item.kind = SentItem::kClose;
      item.close_code = 1000;
      item.payload = content.substr(0, 123);
      for (char& c : item.payload) c = static_cast<char>(c & 0x7F);
      std::string frame_payload{'\x03', '\xe8'};
      AddFrame(true, item.rsv1_violation, 0x8, frame_payload + item.payload);
    } else {
      item.kind = (record[0] & 3) == 2 ? SentItem::kPing : SentItem::kPong;
      item.payload = content.substr(0, 125);
      AddFrame(true, item.rsv1_violation, item.kind == SentItem::kPing ? 0x9 : 0xA, item.payload);
    }
    items_.push_back(std::move(item));
    return items_.back().kind != SentItem::kClose;
  }

  // zlib's output for one whole message: a sync flush with its tail stripped, or a final block
  // (after which the next message starts a new stream, on both sides).
  std::string Compress(const std::string& plaintext, bool final_block) {
    if (!settings_.context_takeover) deflateReset(&zlib_);
    std::string out;
    zlib_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plaintext.data()));
    zlib_.avail_in = static_cast<uInt>(plaintext.size());
    int flush = final_block ? Z_FINISH : Z_SYNC_FLUSH;
    for (;;) {
      uint8_t chunk[16384];
      zlib_.next_out = chunk;
      zlib_.avail_out = sizeof chunk;
      int result = deflate(&zlib_, flush);
      out.append(reinterpret_cast<char*>(chunk), sizeof chunk - zlib_.avail_out);
      if (result == Z_STREAM_END || result == Z_BUF_ERROR) break;
      if (!final_block && zlib_.avail_out != 0 && zlib_.avail_in == 0) break;
    }
    if (final_block) {
      deflateReset(&zlib_);
    } else if (out.size() >= 4 && out.compare(out.size() - 4, 4, "\x00\x00\xff\xff", 4) == 0) {
      out.resize(out.size() - 4);
    } else if (out.empty()) {
      out.assign(1, '\0');  // a flush right after a flush: the empty stored block, tail stripped
    }
    return out;
  }

  void AddFrame(bool fin, bool rsv1, uint8_t opcode, const std::string& payload) {
    bytes_ += static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
    const uint8_t mask_bit = settings_.masks ? 0x80 : 0;
    const uint64_t length = payload.size();
    if (length < 126) {
      bytes_ += static_cast<char>(mask_bit | length);
    } else if (length <= 0xFFFF) {
      bytes_ += static_cast<char>(mask_bit | 126);
      for (int shift = 8; shift >= 0; shift -= 8) bytes_ += static_cast<char>(length >> shift);
    } else {
      bytes_ += static_cast<char>(mask_bit | 127);
      for (int shift = 56; shift >= 0; shift -= 8) bytes_ += static_cast<char>(length >> shift);
    }
    if (!settings_.masks) {
      bytes_ += payload;
      return;
    }
    uint32_t key_bits = Next();
    char key[4];
    for (int i = 0; i < 4; ++i) key[i] = static_cast<char>(key_bits >> (8 * i));
    bytes_.append(key, 4);
    size_t start = bytes_.size();
    bytes_ += payload;
    char* masked = bytes_.data() + start;
    for (size_t i = 0; i < payload.size(); ++i) masked[i] ^= key[i & 3];
  }

  PeerSettings settings_;
  uint32_t random_;
  z_stream zlib_{};
  bool initialised_ = false;
  size_t plaintext_used_ = 0;
  std::string bytes_;
  std::vector<SentItem> items_;
};

}  // namespace node_bufferevent::ws::fuzz
