package main

import (
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1)
	}
	for _, tc := range []struct {
		vs   []int64
		p    float64
		want int64
	}{
		{nil, 50, 0},
		{[]int64{7}, 50, 7},
		{[]int64{7}, 99.9, 7},
		{[]int64{1, 2}, 50, 1},
		{[]int64{1, 2}, 51, 2},
		{hundred, 50, 50},
		{hundred, 99, 99},
		{hundred, 99.9, 100},
		{hundred, 100, 100},
		{hundred, 0.1, 1},
	} {
		if got := percentile(tc.vs, tc.p); got != tc.want {
			t.Errorf("percentile(%d values, %v) = %d, want %d", len(tc.vs), tc.p, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	if summarize(nil) != nil {
		t.Fatal("summary of nothing")
	}
	ns := []int64{3e6, 1e6, 2e6, 4e6}
	l := summarize(ns)
	if l.Samples != 4 || l.P50 != 2 || l.P99 != 4 || l.P999 != 4 || l.Max != 4 {
		t.Fatalf("summary %+v", l)
	}
}

func TestSpreadAndRatio(t *testing.T) {
	s := spreadOf([]float64{3, math.NaN(), 1, 2})
	if s.Median != 2 || s.Min != 1 || s.Max != 3 || s.N != 3 {
		t.Fatalf("odd: %+v", s)
	}
	s = spreadOf([]float64{4, 1, 3, 2})
	if s.Median != 2.5 || s.N != 4 {
		t.Fatalf("even: %+v", s)
	}
	if s := spreadOf([]float64{math.NaN(), math.Inf(1)}); s.N != 0 || !math.IsNaN(s.Median) {
		t.Fatalf("empty: %+v", s)
	}
	if r := ratio(3, 2); r != 1.5 {
		t.Fatalf("ratio %v", r)
	}
	if !math.IsNaN(ratio(1, 0)) || !math.IsNaN(ratio(math.NaN(), 1)) {
		t.Fatal("ratio of nothing is a number")
	}
}

func TestBitset(t *testing.T) {
	var s bitset
	for _, i := range []uint64{0, 63, 64, 1000, 5} {
		if !s.add(i) {
			t.Fatalf("%d was present", i)
		}
	}
	for _, i := range []uint64{0, 63, 64, 1000, 5} {
		if s.add(i) {
			t.Fatalf("%d added twice", i)
		}
	}
	if !s.add(999) {
		t.Fatal("999 was present")
	}
}
