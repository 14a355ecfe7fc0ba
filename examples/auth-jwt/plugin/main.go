//go:build wasip1

package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

func init() {
	sockwasm.OnInit(func(raw []byte) error {
		_, err := parseConfig(raw)
		return err
	})
	sockwasm.OnConnect(authenticate)
	sockwasm.OnEvent("whoami", whoami)
}

// config is the plugin's [plugin.auth-jwt.config] table.
type config struct {
	Secret   string  `json:"secret"`
	Issuer   string  `json:"issuer"`
	Audience string  `json:"audience"`
	Leeway   float64 `json:"leeway"`
}

// parseConfig decodes and checks the config table.
func parseConfig(raw []byte) (*config, error) {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, errors.New("config: " + err.Error())
	}
	if c.Secret == "" {
		return nil, errors.New(`config: secret is required ([plugin.auth-jwt.config] secret = "...")`)
	}
	if c.Leeway < 0 {
		return nil, errors.New("config: leeway must not be negative")
	}
	return &c, nil
}

// cfg caches the config in this instance. An instance belongs to one
// version of the plugin, whose config never changes, so the cache is
// never stale; a new instance reads it again.
var cfg *config

// currentConfig returns the config of this version, parsed once per
// instance.
func currentConfig() (*config, error) {
	if cfg != nil {
		return cfg, nil
	}
	c, err := parseConfig(sockwasm.Config())
	if err != nil {
		return nil, err
	}
	cfg = c
	return c, nil
}

// authenticate is the connection middleware.
func authenticate(s *sockwasm.Socket) *sockwasm.ConnectError {
	c, err := currentConfig()
	if err != nil { // INIT refuses such a version; kept for safety
		sockwasm.Log(sockwasm.LevelError, err.Error())
		return refuse("server misconfigured")
	}
	token, ok := s.Auth().Get("token").AsString()
	if !ok || token == "" {
		return refuse("missing token")
	}
	claims, reason := verify(token, c, time.Now())
	if reason != "" {
		return refuse(reason)
	}
	if err := s.SetData(claims); err != nil {
		return refuse("claims too large")
	}
	return nil
}

// refuse builds the CONNECT_ERROR of a refused connection.
func refuse(reason string) *sockwasm.ConnectError {
	data := append([]byte(`{"reason":`), sockwasm.AppendString(nil, reason)...)
	return &sockwasm.ConnectError{Message: "unauthorized", Data: append(data, '}')}
}

// header is the part of a JOSE header this plugin reads.
type header struct {
	Alg string `json:"alg"`
}

// verify checks a compact JWS token against c at now. It returns the
// claims (a JSON object, as sent) or the reason of a refusal.
func verify(token string, c *config, now time.Time) (claims []byte, reason string) {
	h64, rest, ok1 := strings.Cut(token, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") {
		return nil, "malformed token"
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(h64)
	payload, err2 := base64.RawURLEncoding.DecodeString(p64)
	sig, err3 := base64.RawURLEncoding.DecodeString(s64)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, "malformed token"
	}
	var h header
	if json.Unmarshal(hb, &h) != nil {
		return nil, "malformed token"
	}
	if h.Alg != "HS256" {
		return nil, "unsupported alg"
	}
	mac := hmac.New(sha256.New, []byte(c.Secret))
	mac.Write([]byte(token[:len(h64)+1+len(p64)]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, "bad signature"
	}
	var cl map[string]json.RawMessage
	if json.Unmarshal(payload, &cl) != nil || cl == nil {
		return nil, "malformed token"
	}
	leeway := c.Leeway
	t := float64(now.UnixMilli()) / 1000
	if raw, ok := cl["exp"]; ok {
		exp, ok := number(raw)
		if !ok {
			return nil, "malformed token"
		}
		if t >= exp+leeway {
			return nil, "expired"
		}
	}
	if raw, ok := cl["nbf"]; ok {
		nbf, ok := number(raw)
		if !ok {
			return nil, "malformed token"
		}
		if t < nbf-leeway {
			return nil, "not yet valid"
		}
	}
	if c.Issuer != "" {
		var iss string
		if json.Unmarshal(cl["iss"], &iss) != nil || iss != c.Issuer {
			return nil, "bad issuer"
		}
	}
	if c.Audience != "" && !hasAudience(cl["aud"], c.Audience) {
		return nil, "bad audience"
	}
	return payload, ""
}

// number decodes a JSON number (NumericDate).
func number(raw json.RawMessage) (float64, bool) {
	var f float64
	if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// hasAudience reports whether aud, a string or an array of strings, is or
// contains want.
func hasAudience(aud json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(aud, &one) == nil {
		return one == want
	}
	var many []string
	if json.Unmarshal(aud, &many) != nil {
		return false
	}
	for _, a := range many {
		if a == want {
			return true
		}
	}
	return false
}

// whoami acks {"id": socket id, "claims": socket data}.
func whoami(s *sockwasm.Socket, e *sockwasm.Event) {
	claims := s.Data().Raw()
	if len(claims) == 0 {
		claims = []byte("null")
	}
	b := append([]byte(`[{"id":`), sockwasm.AppendString(nil, s.ID())...)
	b = append(b, `,"claims":`...)
	b = append(b, claims...)
	e.Ack(append(b, "}]"...))
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
