//go:build !unix

package server

import "time"

// processCPU returns -1: this platform's CPU time is not read.
func processCPU() time.Duration { return -1 }
