/* Latency histogram: bucket index maths and percentile walk (see stats.h). */
#include "stats.h"

#include <math.h>
#include <string.h>

static unsigned bucket_index(uint64_t value) {
  if (value < LATENCY_SUB_COUNT) return (unsigned)value;
  unsigned exponent = 63u - (unsigned)__builtin_clzll(value); /* >= LATENCY_SUB_BITS */
  unsigned sub = (unsigned)(value >> (exponent - LATENCY_SUB_BITS)) & (LATENCY_SUB_COUNT - 1);
  return (exponent - LATENCY_SUB_BITS + 1) * LATENCY_SUB_COUNT + sub;
}

static uint64_t bucket_upper_bound(unsigned index) {
  if (index < LATENCY_SUB_COUNT) return index;
  unsigned exponent = index / LATENCY_SUB_COUNT + LATENCY_SUB_BITS - 1;
  uint64_t sub = index % LATENCY_SUB_COUNT;
  unsigned shift = exponent - LATENCY_SUB_BITS;
  uint64_t low = (LATENCY_SUB_COUNT + sub) << shift;
  return low + ((uint64_t)1 << shift) - 1;
}

void latency_histogram_reset(struct latency_histogram* histogram) {
  memset(histogram, 0, sizeof *histogram);
}

void latency_histogram_record(struct latency_histogram* histogram, uint64_t ns) {
  histogram->counts[bucket_index(ns)]++;
  if (histogram->total == 0 || ns < histogram->min_ns) histogram->min_ns = ns;
  if (ns > histogram->max_ns) histogram->max_ns = ns;
  histogram->total++;
  histogram->sum_ns += (double)ns;
}

uint64_t latency_histogram_percentile(const struct latency_histogram* histogram, double percent) {
  if (histogram->total == 0) return 0;
  uint64_t rank = (uint64_t)ceil(percent / 100.0 * (double)histogram->total);
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < LATENCY_BUCKETS; i++) {
    seen += histogram->counts[i];
    if (seen >= rank) {
      uint64_t value = bucket_upper_bound(i);
      if (value > histogram->max_ns) value = histogram->max_ns;
      if (value < histogram->min_ns) value = histogram->min_ns;
      return value;
    }
  }
  return histogram->max_ns;
}

double latency_histogram_mean(const struct latency_histogram* histogram) {
  return histogram->total ? histogram->sum_ns / (double)histogram->total : 0.0;
}
