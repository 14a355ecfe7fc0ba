//go:build wasip1

// Command sandbox is a test guest that tries to reach outside its sandbox
// and acks what happened.
package main

import (
	"net"
	"os"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

func result(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func init() {
	sockwasm.OnEvent("escape", func(s *sockwasm.Socket, e *sockwasm.Event) {
		_, ferr := os.Open("/etc/passwd")
		_, werr := os.Create("owned.txt")
		_, nerr := net.Dial("tcp", "127.0.0.1:80")
		e.Ack(sockwasm.AppendStrings(nil, []string{result(ferr), result(werr), result(nerr)}))
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
