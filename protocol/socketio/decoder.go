package socketio

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
// The packet's Data aliases data.
func Parse(data []byte, lim Limits) (Packet, error) {
	p, _, err := parse(data, lim)
	return p, err
}

// parse is Parse that also returns the announced attachment count.
func parse(data []byte, lim Limits) (Packet, int, error) {
	lim = lim.withDefaults()
	p := Packet{Namespace: DefaultNamespace}
	if len(data) == 0 {
		return p, 0, ErrEmptyPacket
	}
	if data[0] < '0' || data[0] > '6' {
		return p, 0, ErrUnknownType
	}
	p.Type = Type(data[0] - '0')
	i := 1
	atts := 0
	if p.Type.IsBinary() {
		start := i
		for i < len(data) && isDigit(data[i]) {
			if atts > lim.MaxAttachments {
				return p, 0, ErrTooManyAttachments
			}
			atts = atts*10 + int(data[i]-'0')
			i++
		}
		if i == start || i >= len(data) || data[i] != '-' {
			return p, 0, ErrBadAttachments
		}
		if atts > lim.MaxAttachments {
			return p, 0, ErrTooManyAttachments
		}
		i++
	}
	if i < len(data) && data[i] == '/' {
		start := i
		for i < len(data) && data[i] != ',' {
			i++
		}
		p.Namespace = string(data[start:i])
		if i < len(data) {
			i++ // ,
		}
	}
	if i < len(data) && isDigit(data[i]) {
		var id uint64
		for i < len(data) && isDigit(data[i]) {
			d := uint64(data[i] - '0')
			if id > (1<<64-1-d)/10 {
				return p, 0, ErrBadAckID
			}
			id = id*10 + d
			i++
		}
		p.ID, p.HasID = id, true
	}
	if i < len(data) {
		p.Data = data[i:]
	}
	if err := validate(&p, atts, lim); err != nil {
		return p, 0, err
	}
	return p, atts, nil
}

// validate checks p.Data against what p.Type requires.
func validate(p *Packet, atts int, lim Limits) error {
	c, _ := firstByte(p.Data)
	switch p.Type {
	case Connect:
		if p.Data == nil {
			return nil
		}
		if c != '{' {
			return ErrConnectPayload
		}
		return Validate(p.Data, lim.MaxDepth)
	case Disconnect:
		if p.Data != nil {
			return ErrUnexpectedPayload
		}
		return nil
	case ConnectError:
		if c != '{' && c != '"' {
			return ErrUnexpectedPayload
		}
		return Validate(p.Data, lim.MaxDepth)
	}
	// EVENT, ACK and their binary forms: an array.
	if c != '[' {
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			return ErrBadAckID
		}
		return ErrNotArray
	}
	if p.Type.IsBinary() {
		if _, err := CountPlaceholders(p.Data, lim.MaxDepth, atts); err != nil {
			return err
		}
	} else if err := Validate(p.Data, lim.MaxDepth); err != nil {
		return err
	}
	if p.Type == Event || p.Type == BinaryEvent {
		q, err := eventNameRaw(p.Data)
		if err != nil {
			return err
		}
		if reservedRaw(q) {
			return ErrReservedEvent
		}
	}
	return nil
}

// Decoder turns a stream of messages (a text packet, then the binary
// attachments it announces) into complete packets. The zero value uses the
// default limits. A Decoder is not safe for concurrent use.
type Decoder struct {
	// Limits bounds what the decoder accepts.
	Limits Limits

	pending Packet
	want    int
}

// Decode adds one message. It returns the packet and true once the packet
// is complete: at once for a text packet without attachments, with the last
// attachment otherwise. The packet aliases the messages; the decoder keeps
// no reference to them afterwards. After an error the decoder is reset.
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
	p, atts, err := parse(data, d.Limits)
	if err != nil {
		return Packet{}, false, err
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
