package socketio

import (
	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/protocol/msgpack"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// Parser is a Socket.IO packet format. Handlers, plugins and adapters see
// the same JSON args and attachments whatever the format.
type Parser uint8

// Packet formats.
const (
	// ParserJSON is socket.io-parser's format, the default: a text
	// message per packet, each binary attachment a binary message.
	ParserJSON Parser = iota
	// ParserMsgpack is socket.io-msgpack-parser 3.0.2's format: each
	// packet one binary message, a msgpack map with the binary values
	// inline (package protocol/msgpack). Args are transcoded between
	// msgpack and JSON at the edge, both ways.
	ParserMsgpack
)

// String returns the parser's name in server.toml ("json", "msgpack").
func (p Parser) String() string {
	if p == ParserMsgpack {
		return "msgpack"
	}
	return "json"
}

// errTextMessage refuses a text message under the msgpack parser, whose
// packets are binary only (socket.io-msgpack-parser's decoder throws on
// one).
var errTextMessage = &parseErr{"text message under the msgpack parser"}

// parseErr is a malformed message: it closes the session with "parse
// error".
type parseErr struct{ msg string }

func (e *parseErr) Error() string { return "socketio: " + e.msg }

// msgpackLimits are the bounds of decoding and encoding msgpack packets:
// the server's attachment and nesting bounds.
func (s *Server) msgpackLimits() msgpack.Limits {
	return msgpack.Limits{MaxDepth: s.opts.MaxDepth, MaxAttachments: s.opts.MaxAttachments}
}

// decode decodes one message of a client: through the client's JSON
// Decoder (a packet may span several messages), or as one msgpack packet.
func (c *client) decode(data []byte, binary bool) (sp.Packet, bool, error) {
	if c.srv.opts.Parser != ParserMsgpack {
		return c.dec.Decode(data, binary)
	}
	if !binary {
		return sp.Packet{}, false, errTextMessage
	}
	p, err := msgpack.DecodePacket(data, c.srv.msgpackLimits())
	if err != nil {
		return sp.Packet{}, false, err
	}
	return p, true, nil
}

// encode encodes p, whose Data is JSON text with placeholders for
// p.Attachments, in the server's format: the text message for the JSON
// parser (the attachments are sent after it as binary messages), the
// whole binary message for the msgpack parser.
func (s *Server) encode(p *sp.Packet) ([]byte, error) {
	if s.opts.Parser == ParserMsgpack {
		return msgpack.AppendPacket(make([]byte, 0, 16+len(p.Namespace)+len(p.Data)+attachmentBytes(p.Attachments)), p, s.msgpackLimits())
	}
	buf := make([]byte, 0, 24+len(p.Namespace)+len(p.Data))
	return sp.AppendPacket(buf, p), nil
}

func attachmentBytes(atts [][]byte) int {
	n := 0
	for _, a := range atts {
		n += len(a)
	}
	return n
}

// messages returns the Engine.IO messages of an encoded packet: for the
// JSON parser the text message and each attachment, for the msgpack parser
// the one binary message that holds the attachments.
func (s *Server) messages(enc []byte, atts [][]byte) []engineio.Message {
	if s.opts.Parser == ParserMsgpack {
		return []engineio.Message{{Data: enc, Binary: true}}
	}
	msgs := make([]engineio.Message, 1+len(atts))
	msgs[0] = engineio.Message{Data: enc}
	for i, a := range atts {
		msgs[i+1] = engineio.Message{Data: a, Binary: true}
	}
	return msgs
}
