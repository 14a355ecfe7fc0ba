//go:build !wasip1

package sockwasm

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// stateFrame is an INIT or TIMER frame: id in the ack id field, args and
// context fields set.
func stateFrame(kind byte, id uint64, args, ctx string) []byte {
	f := []byte{1, kind, 0, 0}
	f = binary.LittleEndian.AppendUint32(f, 0)
	f = binary.LittleEndian.AppendUint64(f, id)
	f = binary.LittleEndian.AppendUint32(f, 0)
	f = binary.LittleEndian.AppendUint32(f, 0)
	for _, s := range []string{"", "", "", args, "", ctx, ""} {
		f = binary.LittleEndian.AppendUint32(f, uint32(len(s)))
		f = append(f, s...)
	}
	return binary.LittleEndian.AppendUint32(f, 0)
}

func TestDispatchState(t *testing.T) {
	defer func() { stateHandlers.init, stateHandlers.timer, nativeFrame = nil, nil, nil }()

	// Without handlers both kinds succeed.
	for _, k := range []byte{kindInit, kindTimer} {
		nativeFrame = stateFrame(k, 1, "{}", "")
		if rc := dispatch(int32(k), int32(len(nativeFrame))); rc != 0 {
			t.Fatalf("kind %d without handler = %d", k, rc)
		}
	}

	var gotCfg string
	OnInit(func(cfg []byte) error {
		gotCfg = string(cfg)
		if Value(cfg).Get("bad").Exists() {
			return errors.New("bad config")
		}
		return nil
	})
	nativeFrame = stateFrame(kindInit, 0, `{"a":1}`, "")
	if rc := dispatch(kindInit, int32(len(nativeFrame))); rc != 0 || gotCfg != `{"a":1}` {
		t.Fatalf("init = %d, cfg %q", rc, gotCfg)
	}
	nativeFrame = stateFrame(kindInit, 0, `{"bad":true}`, "")
	if rc := dispatch(kindInit, int32(len(nativeFrame))); rc == 0 {
		t.Fatal("a failing OnInit returned 0")
	}

	var gotID TimerID
	var gotCtx string
	OnTimer(func(id TimerID, ctx []byte) { gotID, gotCtx = id, string(ctx) })
	nativeFrame = stateFrame(kindTimer, 42, "", "tick")
	if rc := dispatch(kindTimer, int32(len(nativeFrame))); rc != 0 || gotID != 42 || gotCtx != "tick" {
		t.Fatalf("timer = %d, %d %q", rc, gotID, gotCtx)
	}
}

func TestNativeStateCalls(t *testing.T) {
	if _, err := KV.Get("k"); err != ErrNotAllowed {
		t.Fatalf("KV.Get = %v", err)
	}
	if _, err := SetTimer(0, false, nil); err != ErrInvalid {
		t.Fatalf("SetTimer(0) = %v", err)
	}
	if _, err := SetTimer(time.Second, true, nil); err != ErrNotAllowed {
		t.Fatalf("SetTimer = %v", err)
	}
	if Config() != nil {
		t.Fatal("Config outside a host")
	}
}
