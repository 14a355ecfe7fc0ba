package socketio

import "bytes"

// Default limits, used where a Limits field is zero. DefaultMaxAttachments
// is socket.io-parser's own bound (its decoder, in the server and in every
// JavaScript client, refuses more).
const (
	DefaultMaxAttachments = 10
	DefaultMaxDepth       = 64
)

// Limits bounds what the decoder accepts. Zero fields mean the defaults.
type Limits struct {
	// MaxAttachments bounds the attachments of one BINARY_* packet.
	MaxAttachments int
	// MaxDepth bounds the nesting of arrays and objects in JSON data.
	MaxDepth int
}

func (l Limits) withDefaults() Limits {
	if l.MaxAttachments <= 0 {
		l.MaxAttachments = DefaultMaxAttachments
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Parse decodes and validates one text packet. A BINARY_* packet is
// returned without its attachments; use a Decoder to collect them.
// The packet's Data aliases data; its Namespace is a copy (a Decoder
// reuses the copies of recent namespaces instead).
func Parse(data []byte, lim Limits) (Packet, error) {
	p, _, _, err := parse(data, lim, nil)
	return p, err
}

// parse is Parse that also returns the announced attachment count and, for
// an EVENT or BINARY_EVENT, the event name as the quoted JSON string in
// data. The namespace string comes from r when r is not nil.
func parse(data []byte, lim Limits, r *recent) (Packet, int, []byte, error) {
	lim = lim.withDefaults()
	p := Packet{Namespace: DefaultNamespace}
	if len(data) == 0 {
		return p, 0, nil, ErrEmptyPacket
	}
	if data[0] < '0' || data[0] > '6' {
		return p, 0, nil, ErrUnknownType
	}
	p.Type = Type(data[0] - '0')
	i := 1
	atts := 0
	if p.Type.IsBinary() {
		start := i
		for i < len(data) && isDigit(data[i]) {
			if atts > lim.MaxAttachments {
				return p, 0, nil, ErrTooManyAttachments
			}
			atts = atts*10 + int(data[i]-'0')
			i++
		}
		if i == start || i >= len(data) || data[i] != '-' {
			return p, 0, nil, ErrBadAttachments
		}
		if atts > lim.MaxAttachments {
			return p, 0, nil, ErrTooManyAttachments
		}
		i++
	}
	if i < len(data) && data[i] == '/' {
		start := i
		for i < len(data) && data[i] != ',' {
			i++
		}
		p.Namespace = r.namespace(data[start:i])
		if i < len(data) {
			i++ // ,
		}
	}
	if i < len(data) && isDigit(data[i]) {
		var id uint64
		for i < len(data) && isDigit(data[i]) {
			d := uint64(data[i] - '0')
			if id > (1<<64-1-d)/10 {
				return p, 0, nil, ErrBadAckID
			}
			id = id*10 + d
			i++
		}
		p.ID, p.HasID = id, true
	}
	if i < len(data) {
		p.Data = data[i:]
	}
	q, err := validate(&p, atts, lim)
	if err != nil {
		return p, 0, nil, err
	}
	return p, atts, q, nil
}

// validate checks p.Data against what p.Type requires. For an EVENT or
// BINARY_EVENT it returns the event name, the quoted JSON string in
// p.Data.
func validate(p *Packet, atts int, lim Limits) ([]byte, error) {
	c, _ := firstByte(p.Data)
	switch p.Type {
	case Connect:
		if p.Data == nil {
			return nil, nil
		}
		if c != '{' {
			return nil, ErrConnectPayload
		}
		return nil, Validate(p.Data, lim.MaxDepth)
	case Disconnect:
		if p.Data != nil {
			return nil, ErrUnexpectedPayload
		}
		return nil, nil
	case ConnectError:
		if c != '{' && c != '"' {
			return nil, ErrUnexpectedPayload
		}
		return nil, Validate(p.Data, lim.MaxDepth)
	}
	// EVENT, ACK and their binary forms: an array.
	if c != '[' {
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			return nil, ErrBadAckID
		}
		return nil, ErrNotArray
	}
	if p.Type.IsBinary() {
		if _, err := CountPlaceholders(p.Data, lim.MaxDepth, atts); err != nil {
			return nil, err
		}
	} else if err := Validate(p.Data, lim.MaxDepth); err != nil {
		return nil, err
	}
	if p.Type == Event || p.Type == BinaryEvent {
		q, err := eventNameRaw(p.Data)
		if err != nil {
			return nil, err
		}
		if reservedRaw(q) {
			return nil, ErrReservedEvent
		}
		return q, nil
	}
	return nil, nil
}

// Decoder turns a stream of messages (a text packet, then the binary
// attachments it announces) into complete packets. The zero value uses the
// default limits. A Decoder is not safe for concurrent use.
//
// A Decoder is meant to live as long as the connection it decodes: it
// keeps the strings of the namespaces and event names it decoded last
// (short ones only, see recent), so that a client's usual packets decode
// without allocating.
type Decoder struct {
	// Limits bounds what the decoder accepts.
	Limits Limits

	pending Packet
	want    int
	recent  *recent // allocated by the first Decode
}

// Decode adds one message. It returns the packet and true once the packet
// is complete: at once for a text packet without attachments, with the last
// attachment otherwise. The packet's Data and Attachments alias the
// messages; its Namespace, and the event name Packet.SplitEvent returns,
// are strings of their own (they never alias data), so whoever keeps them
// does not keep the messages. The decoder keeps no reference to the
// messages afterwards. After an error the decoder is reset.
//
// An EVENT or BINARY_EVENT packet records where its event name ends, so
// that Packet.SplitEvent does not parse it again.
func (d *Decoder) Decode(data []byte, binary bool) (Packet, bool, error) {
	if binary {
		if d.want == 0 {
			return Packet{}, false, ErrUnexpectedBinary
		}
		d.pending.Attachments = append(d.pending.Attachments, data)
		if len(d.pending.Attachments) < d.want {
			return Packet{}, false, nil
		}
		p := d.pending
		d.Reset()
		return p, true, nil
	}
	if d.want != 0 {
		d.Reset()
		return Packet{}, false, ErrUnexpectedText
	}
	if d.recent == nil {
		d.recent = new(recent)
	}
	p, atts, q, err := parse(data, d.Limits, d.recent)
	if err != nil {
		return Packet{}, false, err
	}
	if q != nil {
		if err := p.recordEvent(q, d.recent); err != nil {
			return Packet{}, false, err
		}
	}
	if atts > 0 {
		p.Attachments = make([][]byte, 0, atts)
		d.pending, d.want = p, atts
		return Packet{}, false, nil
	}
	return p, true, nil
}

// Pending reports how many attachments the decoder still waits for.
func (d *Decoder) Pending() int {
	if d.want == 0 {
		return 0
	}
	return d.want - len(d.pending.Attachments)
}

// Reset drops a partially received packet.
func (d *Decoder) Reset() {
	d.pending = Packet{}
	d.want = 0
}

// Bounds of the strings a Decoder keeps for reuse: the last recentNames
// event names and recentNamespaces namespaces of at most recentMaxLen
// bytes. A client's packets usually cycle through a few short names; a
// longer or rarer one costs one allocation per packet, as it would without
// the cache, and a client cannot make the decoder keep more than
// (recentNames+recentNamespaces)×recentMaxLen bytes.
const (
	recentNames      = 4
	recentNamespaces = 2
	recentMaxLen     = 64
)

// recent holds the strings a Decoder reuses: Go strings never alias the
// messages, so a namespace or event name that a handler keeps (as a map
// key, in a log line) does not keep a message buffer alive, and a client
// that repeats them costs no allocation. Replacement is round-robin.
type recent struct {
	names    [recentNames]string
	nsps     [recentNamespaces]string
	nextName uint8
	nextNsp  uint8
}

// namespace returns b, a namespace name, as a string: a kept one when
// equal, else a new one (kept when short). A nil r always makes a new one.
func (r *recent) namespace(b []byte) string {
	if string(b) == DefaultNamespace {
		return DefaultNamespace
	}
	if r == nil {
		return string(b)
	}
	for _, s := range r.nsps {
		if s == string(b) && s != "" {
			return s
		}
	}
	s := string(b)
	if len(b) <= recentMaxLen {
		r.nsps[r.nextNsp] = s
		r.nextNsp = (r.nextNsp + 1) % recentNamespaces
	}
	return s
}

// eventName returns the decoded string of q, a JSON string literal the
// scanner has validated: a kept string when equal, else a new one (kept
// when short and without escapes).
func (r *recent) eventName(q []byte) (string, bool) {
	raw := q[1 : len(q)-1]
	if len(raw) > recentMaxLen || bytes.IndexByte(raw, '\\') >= 0 {
		return unquote(q)
	}
	for _, s := range r.names {
		if s == string(raw) {
			return s, true
		}
	}
	s := string(raw)
	r.names[r.nextName] = s
	r.nextName = (r.nextName + 1) % recentNames
	return s, true
}
