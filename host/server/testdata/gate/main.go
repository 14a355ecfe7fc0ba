//go:build wasip1

// Command gate is the per-event middleware of the server tests: it
// rejects every event whose name starts with the "deny" prefix of its
// configuration table, with data {"event": NAME}.
package main

import (
	"strings"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

func init() {
	sockwasm.OnEventMiddleware(func(s *sockwasm.Socket, e *sockwasm.Event) *sockwasm.Rejection {
		deny, _ := sockwasm.Config().Get("deny").AsString()
		if deny != "" && strings.HasPrefix(e.Name, deny) {
			data := append(sockwasm.AppendString([]byte(`{"event":`), e.Name), '}')
			return &sockwasm.Rejection{Message: "denied", Data: data}
		}
		return nil
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
