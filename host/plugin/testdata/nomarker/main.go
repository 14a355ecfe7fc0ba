//go:build wasip1

// Command nomarker is a WASI module that is not a sockwasm plugin.
package main

func main() {}
