package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

const maxRoomLen = 128

var badRequest = []byte(`[{"ok":false,"error":"bad request"}]`)

func init() {
	sockwasm.OnInit(func(raw []byte) error {
		_, err := parseConfig(raw)
		return err
	})
	sockwasm.OnEvent("say", say)
	sockwasm.OnHTTPResponse(delivered)
}

// config is the plugin's [plugin.webhook.config] table.
type config struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

func parseConfig(raw []byte) (*config, error) {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, errors.New("config: " + err.Error())
	}
	if c.URL == "" {
		return nil, errors.New(`config: url is required ([plugin.webhook.config] url = "https://hooks.example.com/chat")`)
	}
	return &c, nil
}

// say broadcasts the message to its room, then posts it to the webhook;
// the client's ack, if asked, waits for the webhook's answer.
func say(s *sockwasm.Socket, e *sockwasm.Event) {
	room, ok := e.Arg(0).Get("room").AsString()
	text := e.Arg(0).Get("text")
	if !ok || room == "" || utf8.RuneCountInString(room) > maxRoomLen || text.Kind() != sockwasm.KindString {
		e.Ack(badRequest)
		return
	}
	b := append([]byte(`[{"room":`), sockwasm.AppendString(nil, room)...)
	b = append(b, `,"from":`...)
	b = sockwasm.AppendString(b, s.ID())
	b = append(b, `,"text":`...)
	b = append(b, text.Raw()...)
	s.To(room).Emit("said", append(b, "}]"...))

	c, err := parseConfig(sockwasm.Config())
	if err != nil { // INIT refuses such a version; kept for safety
		ack(s, e.HasAck(), e.AckID(), "misconfigured")
		return
	}
	body := append([]byte(`{"room":`), sockwasm.AppendString(nil, room)...)
	body = append(body, `,"from":`...)
	body = sockwasm.AppendString(body, s.ID())
	body = append(body, `,"text":`...)
	body = append(body, text.Raw()...)
	body = append(body, `,"at":`...)
	body = append(sockwasm.AppendInt(body, time.Now().UnixMilli()), '}')
	header := map[string]string{"Content-Type": "application/json"}
	if c.Secret != "" {
		mac := hmac.New(sha256.New, []byte(c.Secret))
		mac.Write(body)
		header["X-Webhook-Signature"] = "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	// The context: whether the client asked for an ack, and its id.
	var ctx []byte
	if e.HasAck() {
		ctx = binary.LittleEndian.AppendUint64(ctx, e.AckID())
	}
	if _, err := sockwasm.StartHTTP(&sockwasm.HTTPRequest{Method: "POST", URL: c.URL, Header: header, Body: body}, ctx); err != nil {
		why := "failed"
		if err == sockwasm.ErrLimit {
			why = "busy"
		}
		sockwasm.Log(sockwasm.LevelWarn, "webhook not called: "+err.Error())
		ack(s, e.HasAck(), e.AckID(), why)
	}
}

// delivered answers the client once the webhook has.
func delivered(r *sockwasm.HTTPResponse) {
	if r.Socket == nil || len(r.Context) != 8 {
		return
	}
	why := ""
	switch {
	case r.Failure != "":
		why = string(r.Failure)
		sockwasm.Log(sockwasm.LevelWarn, "webhook failed: "+why+": "+r.Detail)
	case r.Status < 200 || r.Status > 299:
		why = "status " + string(sockwasm.AppendInt(nil, int64(r.Status)))
	}
	ack(r.Socket, true, binary.LittleEndian.Uint64(r.Context), why)
}

// ack answers the client's ack id, when it asked: delivered when why is
// empty.
func ack(s *sockwasm.Socket, asked bool, id uint64, why string) {
	if !asked {
		return
	}
	if why == "" {
		s.Ack(id, []byte(`[{"ok":true,"delivered":true}]`))
		return
	}
	b := append([]byte(`[{"ok":true,"delivered":false,"error":`), sockwasm.AppendString(nil, why)...)
	s.Ack(id, append(b, "}]"...))
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
