// Package fuzzalloc measures how much a function allocates, for fuzz
// targets that assert allocation stays bounded by the input size.
package fuzzalloc

import "runtime"

// Bytes returns the heap bytes f allocates: the least of three runs, since
// the fuzzing engine's own goroutines allocate now and then too.
func Bytes(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		least = min(least, b.TotalAlloc-a.TotalAlloc)
	}
	return least
}
