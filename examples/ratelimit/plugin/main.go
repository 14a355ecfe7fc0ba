//go:build wasip1

package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// dataKey is the key of the bucket in the socket data object.
const dataKey = "ratelimit"

// casTries bounds the compare-and-swap rounds of one event on a shared
// bucket; past them (other events of the same client keep winning) the
// event is refused.
const casTries = 8

// maxIdle bounds the expiry of a shared bucket: a bucket untouched that
// long is full again (or close enough) and is dropped from the store.
const maxIdle = 24 * time.Hour

func init() {
	sockwasm.OnInit(func(raw []byte) error {
		_, err := parseConfig(raw)
		return err
	})
	sockwasm.OnEventMiddleware(limit)
}

// The buckets a config may ask for.
const (
	perSocket  = "socket"  // one per socket, in the socket data
	perAddress = "address" // one per client address, in the key-value store
	perUser    = "user"    // one per JWT subject, in the key-value store
)

// config is the plugin's [plugin.ratelimit.config] table.
type config struct {
	Rate  float64 `json:"rate"`  // tokens added per second
	Burst float64 `json:"burst"` // bucket size
	Per   string  `json:"per"`   // whose bucket: perSocket, perAddress or perUser
}

// parseConfig decodes the config table, applying the defaults, and checks
// it.
func parseConfig(raw []byte) (*config, error) {
	c := config{Rate: 5, Burst: 10, Per: perSocket}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, errors.New("config: " + err.Error())
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		return nil, errors.New("config: rate must be a positive number of events per second")
	}
	if !(c.Burst >= 1) || math.IsInf(c.Burst, 0) {
		return nil, errors.New("config: burst must be at least 1")
	}
	switch c.Per {
	case perSocket, perAddress, perUser:
	default:
		return nil, errors.New(`config: per must be "socket", "address" or "user"`)
	}
	return &c, nil
}

// cfg caches the config in this instance: an instance belongs to one
// version of the plugin, whose config never changes.
var cfg *config

// currentConfig returns the config of this version, parsed once per
// instance.
func currentConfig() *config {
	if cfg == nil {
		c, err := parseConfig(sockwasm.Config())
		if err != nil { // INIT refuses such a version; kept for safety
			c = &config{Rate: 5, Burst: 10, Per: perSocket}
		}
		cfg = c
	}
	return cfg
}

// bucket is the state of a bucket.
type bucket struct {
	Tokens float64 `json:"tokens"` // tokens left at At
	At     int64   `json:"at"`     // Unix time in milliseconds
}

// limit is the per-event middleware.
func limit(s *sockwasm.Socket, e *sockwasm.Event) *sockwasm.Rejection {
	c := currentConfig()
	if c.Per != perSocket {
		if key := sharedKey(s, c.Per); key != "" {
			rej, err := limitShared(key, c)
			if err == nil {
				return rej
			}
			// The store cannot be used (not granted, or a cluster's Redis
			// is away): the socket's own bucket limits meanwhile.
			sockwasm.Log(sockwasm.LevelWarn, "shared bucket "+strconv.Quote(key)+": "+err.Error()+"; using the socket's own")
		}
	}
	return limitSocket(s, c)
}

// take refills b to now and takes a token from it; a nil Rejection means
// the event passes.
func take(b *bucket, now int64, c *config) *sockwasm.Rejection {
	b.Tokens = refill(*b, now, c)
	b.At = max(now, b.At)
	if b.Tokens >= 1 {
		b.Tokens--
		return nil
	}
	wait := math.Ceil((1 - b.Tokens) * 1000 / c.Rate)
	rej := &sockwasm.Rejection{
		Message: "rate limited",
		Data:    strconv.AppendInt([]byte(`{"retryAfterMs":`), int64(wait), 10),
	}
	rej.Data = append(rej.Data, '}')
	return rej
}

// limitSocket keeps the bucket in the socket data.
func limitSocket(s *sockwasm.Socket, c *config) *sockwasm.Rejection {
	data := map[string]json.RawMessage{}
	if raw := s.Data(); raw.Exists() && !raw.IsNull() {
		if json.Unmarshal(raw, &data) != nil || data == nil {
			sockwasm.Log(sockwasm.LevelWarn, "socket data is not a JSON object: not rate limited")
			return nil
		}
	}
	now := time.Now().UnixMilli()
	b := bucket{Tokens: c.Burst, At: now} // a new socket starts full
	if raw, ok := data[dataKey]; ok {
		if json.Unmarshal(raw, &b) != nil {
			b = bucket{Tokens: c.Burst, At: now}
		}
	}
	rej := take(&b, now, c)
	data[dataKey], _ = json.Marshal(b)
	out, _ := json.Marshal(data)
	if err := s.SetData(out); err != nil {
		sockwasm.Log(sockwasm.LevelWarn, "keeping the bucket in the socket data: "+err.Error())
	}
	return rej
}

// limitShared keeps the bucket at key in the plugin's key-value store,
// shared by every socket with that key, on every node of a cluster: read,
// take a token, write back if the value is still the one read. A refused
// event writes nothing.
func limitShared(key string, c *config) (*sockwasm.Rejection, error) {
	for range casTries {
		old, err := sockwasm.KV.Get(key)
		switch {
		case errors.Is(err, sockwasm.ErrNotFound):
			old = nil
		case err != nil:
			return nil, err
		}
		now := time.Now().UnixMilli()
		b := bucket{Tokens: c.Burst, At: now}
		if old != nil && json.Unmarshal(old, &b) != nil {
			b = bucket{Tokens: c.Burst, At: now}
		}
		if rej := take(&b, now, c); rej != nil {
			return rej, nil
		}
		val, _ := json.Marshal(b)
		// Kept until it would be full again: then it is not needed.
		idle := time.Duration(math.Ceil((c.Burst-b.Tokens)/c.Rate*1000))*time.Millisecond + time.Second
		ok, err := sockwasm.KV.CompareAndSwapTTL(key, old, val, min(idle, maxIdle))
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, nil
		}
	}
	return &sockwasm.Rejection{Message: "rate limited", Data: []byte(`{"retryAfterMs":1}`)}, nil
}

// sharedKey returns the store key of the socket's bucket: "addr:" and its
// client address, or "user:" and the "sub" claim of the JWT in its auth
// payload ("token"). "" when the socket has none: it gets a bucket of its
// own.
func sharedKey(s *sockwasm.Socket, per string) string {
	if per == perAddress {
		if h := s.Handshake(); h != nil && h.Address != "" {
			return "addr:" + h.Address
		}
		return ""
	}
	token, _ := s.Auth().Get("token").AsString()
	if sub := jwtSubject(token); sub != "" {
		return "user:" + sub
	}
	return ""
}

// jwtSubject returns the "sub" claim of a JWT without checking its
// signature: a connection middleware in front (examples/auth-jwt) has
// refused the sockets whose token is not valid.
func jwtSubject(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(raw, &claims) != nil || len(claims.Sub) > 256 {
		return ""
	}
	return claims.Sub
}

// refill returns the tokens of b at now: those left plus rate per second
// elapsed, at most burst. A clock that went back (or a node whose clock is
// behind the one that wrote a shared bucket) adds nothing.
func refill(b bucket, now int64, c *config) float64 {
	t := b.Tokens
	if now > b.At {
		t += float64(now-b.At) / 1000 * c.Rate
	}
	return min(max(t, 0), c.Burst)
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
