/* Latency histogram for the load generator: log-linear buckets (about 1.6 %
 * relative precision), fixed memory, no allocation while recording. */
#ifndef LOADGEN_STATS_H
#define LOADGEN_STATS_H

#include <stdint.h>

/* 2^6 sub-buckets per power of two: a reported value is at most 1/64 above
 * the true one. Values below 64 ns are exact. */
#define LATENCY_SUB_BITS 6
#define LATENCY_SUB_COUNT (1u << LATENCY_SUB_BITS)
#define LATENCY_BUCKETS ((64 - LATENCY_SUB_BITS + 1) * LATENCY_SUB_COUNT)

struct latency_histogram {
  uint64_t counts[LATENCY_BUCKETS];
  uint64_t total;
  uint64_t min_ns;
  uint64_t max_ns;
  double sum_ns;
};

void latency_histogram_reset(struct latency_histogram* histogram);
void latency_histogram_record(struct latency_histogram* histogram, uint64_t ns);

/* The smallest recorded value v such that at least `percent` % of the samples
 * are <= v, rounded up to its bucket's upper bound and clamped to [min, max].
 * 0 when nothing was recorded. */
uint64_t latency_histogram_percentile(const struct latency_histogram* histogram, double percent);
double latency_histogram_mean(const struct latency_histogram* histogram);

#endif
