package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sockwasm/sockwasm/host/socketio"
)

// Bounds of what admin logins can make the server hold.
const (
	// MaxLogins is the number of bcrypt comparisons run at once; a login
	// that finds them all taken waits at most LoginWait, then is refused
	// with "too many login attempts".
	MaxLogins = 2
	// LoginWait bounds that wait.
	LoginWait = 5 * time.Second
	// MaxSessions bounds the session ids kept; the oldest is forgotten
	// when a login would keep one more.
	MaxSessions = 1000
	// SessionTTL is how long a session id is accepted (the Node.js
	// package's Redis store keeps them a day too).
	SessionTTL = 24 * time.Hour
	// maxPending bounds the logins whose session id awaits its socket's
	// connection (normally one step later).
	maxPending = 1000
)

// Messages of refused admin connections (CONNECT_ERROR), as the UI shows
// them.
const (
	MsgInvalidCredentials = "invalid credentials"
	MsgTooManyLogins      = "too many login attempts, try again later"
)

// authenticator checks the UI's credentials and keeps the session ids
// it gave out, as the Node.js package's InMemoryStore.
type authenticator struct {
	username []byte
	hash     []byte
	slots    chan struct{}
	wait     time.Duration // LoginWait

	mu       sync.Mutex
	sessions map[string]time.Time // id → expiry
	order    []string             // ids, oldest first
	pending  map[*socketio.Socket]string
}

func newAuthenticator(username string, hash []byte) *authenticator {
	return &authenticator{
		username: []byte(username),
		hash:     hash,
		slots:    make(chan struct{}, MaxLogins),
		wait:     LoginWait,
		sessions: make(map[string]time.Time),
		pending:  make(map[*socketio.Socket]string),
	}
}

// credentials are what the UI sends in its CONNECT auth payload.
type credentials struct {
	SessionID string `json:"sessionId"`
	Username  string `json:"username"`
	Password  string `json:"password"`
}

// authorize accepts a known session id, or the configured username with
// a password matching the hash; then a new session id is kept for the
// socket (takeSession).
func (au *authenticator) authorize(s *socketio.Socket) *socketio.ConnectError {
	var cred credentials
	_ = json.Unmarshal(s.Auth(), &cred)
	if cred.SessionID != "" && au.known(cred.SessionID) {
		return nil
	}
	if ok, msg := au.check(cred); !ok {
		return &socketio.ConnectError{Message: msg}
	}
	id := newSessionID()
	au.mu.Lock()
	defer au.mu.Unlock()
	au.keepLocked(id)
	if len(au.pending) < maxPending {
		au.pending[s] = id
	}
	return nil
}

// check compares the credentials, once a bcrypt slot is free; false with
// the message to refuse with.
func (au *authenticator) check(cred credentials) (bool, string) {
	if cred.Username == "" && cred.Password == "" {
		return false, MsgInvalidCredentials
	}
	t := time.NewTimer(au.wait)
	select {
	case au.slots <- struct{}{}:
		t.Stop()
	case <-t.C:
		return false, MsgTooManyLogins
	}
	// The password is compared whatever the username, so that the time
	// taken does not tell whether the username was right.
	pwOK := bcrypt.CompareHashAndPassword(au.hash, []byte(cred.Password)) == nil
	<-au.slots
	userOK := subtle.ConstantTimeCompare([]byte(cred.Username), au.username) == 1
	if !pwOK || !userOK {
		return false, MsgInvalidCredentials
	}
	return true, ""
}

// takeSession returns (and forgets) the session id made for s's login,
// "" when none.
func (au *authenticator) takeSession(s *socketio.Socket) string {
	au.mu.Lock()
	defer au.mu.Unlock()
	id := au.pending[s]
	delete(au.pending, s)
	return id
}

func (au *authenticator) known(id string) bool {
	au.mu.Lock()
	defer au.mu.Unlock()
	exp, ok := au.sessions[id]
	if ok && time.Now().After(exp) {
		delete(au.sessions, id)
		return false
	}
	return ok
}

// keepLocked keeps session id, forgetting expired ones and, past
// MaxSessions, the oldest.
func (au *authenticator) keepLocked(id string) {
	now := time.Now()
	for len(au.order) > 0 {
		old := au.order[0]
		exp, ok := au.sessions[old]
		if ok && len(au.order) < MaxSessions && now.Before(exp) {
			break
		}
		delete(au.sessions, old)
		au.order = au.order[1:]
	}
	au.sessions[id] = now.Add(SessionTTL)
	au.order = append(au.order, id)
}

// sessionCount returns the session ids kept.
func (au *authenticator) sessionCount() int {
	au.mu.Lock()
	defer au.mu.Unlock()
	return len(au.sessions)
}

func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
