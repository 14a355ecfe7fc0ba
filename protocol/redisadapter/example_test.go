package redisadapter_test

import (
	"fmt"

	"github.com/sockwasm/sockwasm/protocol/redisadapter"
	"github.com/sockwasm/sockwasm/protocol/socketio"
)

func ExampleAppendBroadcast() {
	b := redisadapter.Broadcast{
		UID: "RqHuyn",
		Packet: redisadapter.Packet{
			Type:        socketio.Event,
			Nsp:         "/",
			Data:        []byte(`["file",{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{1, 2, 3}},
		},
		Opts: redisadapter.BroadcastOptions{Rooms: []string{"r1"}},
	}
	msg, err := redisadapter.AppendBroadcast(nil, &b)
	if err != nil {
		panic(err)
	}
	fmt.Println(redisadapter.PublishChannel("", "/", b.Opts.Rooms))
	fmt.Printf("%x\n", msg)

	back, err := redisadapter.DecodeBroadcast(msg, redisadapter.Limits{})
	if err != nil {
		panic(err)
	}
	fmt.Println(back.UID, back.Packet.Type, string(back.Packet.Data), back.Packet.Attachments, back.Opts.Rooms)
	// Output:
	// socket.io#/#r1#
	// 93a652714875796e83a47479706502a46461746192a466696c65c403010203a36e7370a12f83a5726f6f6d7391a27231a665786365707490a5666c61677380
	// RqHuyn EVENT ["file",{"_placeholder":true,"num":0}] [[1 2 3]] [r1]
}

func ExampleDecodeRequest() {
	msg := []byte(`{"uid":"RqHuyn","requestId":"G4fQB7","type":5,"opts":{"rooms":["r1"],"except":[]}}`)
	req, err := redisadapter.DecodeRequest(msg, redisadapter.Limits{})
	if err != nil {
		panic(err)
	}
	switch r := req.(type) {
	case *redisadapter.FetchSocketsRequest:
		resp, _ := redisadapter.AppendResponse(nil, &redisadapter.SocketsResponse{RequestID: r.RequestID})
		fmt.Println(r.RequestType(), r.Opts.Rooms, string(resp))
	}
	// Output: REMOTE_FETCH [r1] {"requestId":"G4fQB7","sockets":[]}
}
