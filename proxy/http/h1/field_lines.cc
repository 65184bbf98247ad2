#include "proxy/http/h1/field_lines.h"

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace remora::http::h1 {

namespace {

size_t countLineBreakBytesOneByOne(std::string_view text) {
  size_t count = 0;
  for (const char c : text) count += c == '\r' || c == '\n' || c == '\0';
  return count;
}

#if defined(__SSE2__)

constexpr size_t kChunk = 16;
// A byte lane counts one chunk at most per step, so a lane overflows after 255 steps.
constexpr size_t kChunksPerSum = 255;

// 0xff in each lane holding CR, LF or NUL.
__m128i lineBreakLanes(const char* chunk) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(chunk));
  const __m128i cr = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\r'));
  const __m128i lf = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\n'));
  const __m128i nul = _mm_cmpeq_epi8(bytes, _mm_setzero_si128());
  return _mm_or_si128(_mm_or_si128(cr, lf), nul);
}

size_t sumLanes(__m128i lane_counts) {
  const __m128i halves = _mm_sad_epu8(lane_counts, _mm_setzero_si128());
  return static_cast<size_t>(_mm_cvtsi128_si32(halves)) +
         static_cast<size_t>(_mm_extract_epi16(halves, 4));
}

// Loaded at offset r (1..15): 16 - r zero lanes, then r lanes of 0xff.
constexpr unsigned char kTailMask[2 * kChunk] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

#endif

}  // namespace

size_t fieldLinesSize(const HeaderMap& fields) {
  size_t size = 0;
  for (const HeaderEntry& field : fields) size += fieldLineSize(field.name, field.value);
  return size;
}

size_t countLineBreakBytes(std::string_view text) {
#if defined(__SSE2__)
  if (text.size() < kChunk) return countLineBreakBytesOneByOne(text);
  const char* data = text.data();
  const size_t chunks = text.size() / kChunk;
  size_t count = 0;
  for (size_t chunk = 0; chunk < chunks;) {
    const size_t block_end = std::min(chunks, chunk + kChunksPerSum);
    __m128i lane_counts = _mm_setzero_si128();
    for (; chunk < block_end; ++chunk) {
      // A matching lane is -1: subtracting it adds one.
      lane_counts = _mm_sub_epi8(lane_counts, lineBreakLanes(data + chunk * kChunk));
    }
    count += sumLanes(lane_counts);
  }
  if (const size_t rest = text.size() % kChunk; rest != 0) {
    // The last 16 bytes again, without the lanes the loop already counted.
    const __m128i fresh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kTailMask + rest));
    const __m128i tail = _mm_and_si128(lineBreakLanes(data + text.size() - kChunk), fresh);
    count += sumLanes(_mm_sub_epi8(_mm_setzero_si128(), tail));
  }
  return count;
#else
  return countLineBreakBytesOneByOne(text);
#endif
}

}  // namespace remora::http::h1
