//go:build wasip1

package main

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// dataKey is the key of the bucket in the socket data object.
const dataKey = "ratelimit"

func init() {
	sockwasm.OnInit(func(raw []byte) error {
		_, err := parseConfig(raw)
		return err
	})
	sockwasm.OnEventMiddleware(limit)
}

// config is the plugin's [plugin.ratelimit.config] table.
type config struct {
	Rate  float64 `json:"rate"`  // tokens added per second
	Burst float64 `json:"burst"` // bucket size
}

// parseConfig decodes the config table, applying the defaults, and checks
// it.
func parseConfig(raw []byte) (*config, error) {
	c := config{Rate: 5, Burst: 10}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, errors.New("config: " + err.Error())
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		return nil, errors.New("config: rate must be a positive number of events per second")
	}
	if !(c.Burst >= 1) || math.IsInf(c.Burst, 0) {
		return nil, errors.New("config: burst must be at least 1")
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
			c = &config{Rate: 5, Burst: 10}
		}
		cfg = c
	}
	return cfg
}

// bucket is the state kept in the socket data.
type bucket struct {
	Tokens float64 `json:"tokens"` // tokens left at At
	At     int64   `json:"at"`     // Unix time in milliseconds
}

// limit is the per-event middleware.
func limit(s *sockwasm.Socket, e *sockwasm.Event) *sockwasm.Rejection {
	c := currentConfig()
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
	b.Tokens = refill(b, now, c)
	b.At = now
	var rej *sockwasm.Rejection
	if b.Tokens >= 1 {
		b.Tokens--
	} else {
		wait := math.Ceil((1 - b.Tokens) * 1000 / c.Rate)
		rej = &sockwasm.Rejection{
			Message: "rate limited",
			Data:    strconv.AppendInt([]byte(`{"retryAfterMs":`), int64(wait), 10),
		}
		rej.Data = append(rej.Data, '}')
	}
	data[dataKey], _ = json.Marshal(b)
	out, _ := json.Marshal(data)
	if err := s.SetData(out); err != nil {
		sockwasm.Log(sockwasm.LevelWarn, "keeping the bucket in the socket data: "+err.Error())
	}
	return rej
}

// refill returns the tokens of b at now: those left plus rate per second
// elapsed, at most burst. A clock that went back adds nothing.
func refill(b bucket, now int64, c *config) float64 {
	t := b.Tokens
	if now > b.At {
		t += float64(now-b.At) / 1000 * c.Rate
	}
	return min(max(t, 0), c.Burst)
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
