// Package abi holds the definitions of sockwasm plugin ABI version 1 that
// the host, the Go SDK and its native test harness must agree on: the call
// kinds, the host functions, their result codes, the capability groups and
// the permission table that says which host function may run in which
// kind of call. sdk/ABI.md is the normative description; this package is
// its one machine-readable copy.
//
// The package is pure: no imports beyond the standard library, no state,
// safe to compile for wasip1 into a guest.
package abi
