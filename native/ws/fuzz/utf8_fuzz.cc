// libFuzzer target for Utf8Validator: validity, completeness and the failing offset must match the
// encoder-built oracle in reference_utf8.h, fed whole and in pieces of varying sizes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "../utf8.h"
#include "reference_utf8.h"

namespace ws = node_bufferevent::ws;

namespace {

ws::reference::Utf8Verdict Run(const uint8_t* data, size_t size, uint32_t seed) {
  ws::Utf8Validator validator;
  size_t offset = 0;
  while (offset < size) {
    size_t piece = size - offset;
    if (seed != 0) {
      seed ^= seed << 13;
      seed ^= seed >> 17;
      seed ^= seed << 5;
      piece = std::min<size_t>(piece, 1 + seed % 19);
    }
    bool ok = validator.Feed(data + offset, piece);
    if (ok == validator.failed()) std::abort();
    offset += piece;
  }
  if (validator.failed()) return {false, false, static_cast<size_t>(validator.error_offset())};
  return {true, validator.Complete(), 0};
}

void Compare(const ws::reference::Utf8Verdict& expected, const ws::reference::Utf8Verdict& actual,
             const char* how) {
  if (expected == actual) return;
  std::fprintf(stderr, "%s: valid %d complete %d offset %zu; reference: %d %d %zu\n", how,
               actual.valid, actual.complete, actual.error_offset, expected.valid,
               expected.complete, expected.error_offset);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ws::reference::Utf8Verdict expected = ws::reference::CheckUtf8(data, size);
  Compare(expected, Run(data, size, 0), "whole");
  Compare(expected, Run(data, size, 0x2545F491u ^ static_cast<uint32_t>(size)), "pieces");
  if (ws::IsValidUtf8(data, size) != (expected.valid && expected.complete)) std::abort();
  return 0;
}
