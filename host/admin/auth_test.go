package admin

import (
	"testing"
	"time"
)

// Logins wait for a bcrypt slot at most au.wait, then are refused: a
// flood of logins cannot queue unbounded CPU work.
func TestLoginSlotsBounded(t *testing.T) {
	au := newAuthenticator("admin", []byte("$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva"))
	au.wait = 20 * time.Millisecond
	for range MaxLogins {
		au.slots <- struct{}{} // every slot busy
	}
	ok, msg := au.check(credentials{Username: "admin", Password: "x"})
	if ok || msg != MsgTooManyLogins {
		t.Fatalf("with every slot taken: %v %q", ok, msg)
	}
	<-au.slots
	ok, msg = au.check(credentials{Username: "admin", Password: "x"})
	if ok || msg != MsgInvalidCredentials {
		t.Fatalf("with a slot free: %v %q", ok, msg)
	}
}

// Session ids are capped (oldest forgotten first) and expire.
func TestSessionsBounded(t *testing.T) {
	au := newAuthenticator("admin", nil)
	first := newSessionID()
	au.mu.Lock()
	au.keepLocked(first)
	for range MaxSessions + 10 {
		au.keepLocked(newSessionID())
	}
	au.mu.Unlock()
	if n := au.sessionCount(); n != MaxSessions {
		t.Fatalf("%d sessions kept, want %d", n, MaxSessions)
	}
	if au.known(first) {
		t.Fatal("the oldest session survived the cap")
	}
	last := au.order[len(au.order)-1]
	if !au.known(last) {
		t.Fatal("the newest session was forgotten")
	}
	au.mu.Lock()
	au.sessions[last] = time.Now().Add(-time.Second)
	au.mu.Unlock()
	if au.known(last) {
		t.Fatal("an expired session was accepted")
	}
}
