package redisadapter

import (
	"crypto/rand"
	"encoding/hex"
)

// uidChars are uid2's 64 characters; a random byte modulo 64 picks one,
// without bias.
const uidChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// UIDLength is the length of a classic adapter's uid and of its
// requestIds (uid2(6)).
const UIDLength = 6

// NewUID returns a classic adapter uid as uid2(6) makes one: 6 characters
// from [A-Za-z0-9_-], from crypto/rand.
func NewUID() string {
	var b [UIDLength]byte
	rand.Read(b[:]) // never fails
	for i, c := range b {
		b[i] = uidChars[c%64]
	}
	return string(b[:])
}

// NewRequestID returns a requestId for a classic adapter request: the
// adapter uses uid2(6) for these too, so requestIds have NewUID's form.
func NewRequestID() string { return NewUID() }

// NewClusterUID returns a uid or requestId of the sharded adapter (a
// ClusterAdapter's randomId): 8 random bytes in lower-case hex, 16
// characters.
func NewClusterUID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}
