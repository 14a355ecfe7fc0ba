package socketio_test

import (
	"fmt"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

func ExampleDecoder() {
	var d socketio.Decoder
	msgs := []struct {
		data   string
		binary bool
	}{
		{`51-/chat,7["upload",{"_placeholder":true,"num":0}]`, false},
		{"\x01\x02\x03", true},
	}
	for _, m := range msgs {
		p, ok, err := d.Decode([]byte(m.data), m.binary)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		if ok {
			name, args, _ := socketio.SplitEvent(p.Data)
			fmt.Println(p.Type, p.Namespace, p.ID, name, string(args), p.Attachments)
		}
	}
	// Output: BINARY_EVENT /chat 7 upload [{"_placeholder":true,"num":0}] [[1 2 3]]
}

func ExampleAppendEventData() {
	buf := socketio.AppendHeader(nil, socketio.Header{Type: socketio.Event, Namespace: "/chat"})
	buf, _ = socketio.AppendEventData(buf, "message-back", []byte(`[1,"2",{"3":[true]}]`))
	fmt.Println(string(buf))
	// Output: 2/chat,["message-back",1,"2",{"3":[true]}]
}

func ExampleParse_errors() {
	for _, in := range []string{`2{}`, `2abc["a"]`, `7`} {
		_, err := socketio.Parse([]byte(in), socketio.Limits{})
		fmt.Println(in, "->", err)
	}
	// Output:
	// 2{} -> socketio: payload is not an array
	// 2abc["a"] -> socketio: invalid ack id
	// 7 -> socketio: unknown packet type
}
