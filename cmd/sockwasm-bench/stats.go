package main

import (
	"math"
	"slices"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p % of the values
// at or below it. 0 for no values.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// latency summarises latencies in milliseconds.
type latency struct {
	Samples int     `json:"samples"`
	P50     float64 `json:"p50"`
	P99     float64 `json:"p99"`
	P999    float64 `json:"p999"`
	Max     float64 `json:"max"`
}

// summarize sorts ns (nanoseconds) in place and summarises it; nil for none.
func summarize(ns []int64) *latency {
	if len(ns) == 0 {
		return nil
	}
	slices.Sort(ns)
	ms := func(v int64) float64 { return float64(v) / 1e6 }
	return &latency{
		Samples: len(ns),
		P50:     ms(percentile(ns, 50)),
		P99:     ms(percentile(ns, 99)),
		P999:    ms(percentile(ns, 99.9)),
		Max:     ms(ns[len(ns)-1]),
	}
}

// spread is the median, minimum and maximum of a metric over rounds.
type spread struct {
	Median, Min, Max float64
	N                int // finite values
}

// spreadOf ignores NaNs; N is 0 (and the rest NaN) when nothing is left.
func spreadOf(vs []float64) spread {
	s := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			s = append(s, v)
		}
	}
	if len(s) == 0 {
		return spread{math.NaN(), math.NaN(), math.NaN(), 0}
	}
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// ratio is a/b, NaN when either is missing or b is 0.
func ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}

// bitset is a growable set of small non-negative integers.
type bitset []uint64

// add adds i and reports whether it was absent.
func (s *bitset) add(i uint64) bool {
	w := i / 64
	if w >= uint64(len(*s)) {
		*s = append(*s, make([]uint64, int(w)+1-len(*s)+len(*s)/2)...)
	}
	bit := uint64(1) << (i % 64)
	if (*s)[w]&bit != 0 {
		return false
	}
	(*s)[w] |= bit
	return true
}
