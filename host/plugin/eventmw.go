package plugin

import (
	"github.com/sockwasm/sockwasm/host/socketio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// EventRejection is a per-event middleware's refusal of an event: the
// event's handler is not called and, when the client asked for an ack, it
// is answered with AckArgs.
type EventRejection struct {
	// Message is the error text, e.g. "rate limited".
	Message string
	// Data is optional JSON detail; nil when the guest gave none.
	Data []byte
}

// Error implements error.
func (r *EventRejection) Error() string { return "plugin: event rejected: " + r.Message }

// AckArgs returns the ack args that carry the rejection to the client:
// [{"error":Message,"data":Data}], "data" omitted when Data is nil.
func (r *EventRejection) AckArgs() []byte {
	buf := make([]byte, 0, 24+len(r.Message)+len(r.Data))
	buf = append(buf, `[{"error":`...)
	buf = sp.AppendString(buf, r.Message)
	if r.Data != nil {
		buf = append(buf, `,"data":`...)
		buf = append(buf, r.Data...)
	}
	return append(buf, "}]"...)
}

// eventInternalError rejects an event whose middleware faulted.
var eventInternalError = &EventRejection{Message: "internal error"}

// EventMiddleware runs the guest's per-event middleware (the socket.use
// equivalent, call kind EVENT_MIDDLEWARE) on ev before its handler; nil
// passes the event on. The guest sees the event as an EVENT call would and
// may change the socket's data, but cannot emit, ack, join or leave; it
// refuses the event with the reject_event host function. A fault rejects
// the event with "internal error". The caller acks a rejected event (with
// EventRejection.AckArgs) when ev.HasAck.
func (p *Plugin) EventMiddleware(s *socketio.Socket, ev *socketio.Event) *EventRejection {
	return p.eventMiddleware(p.adapt(s), ev)
}

func (p *Plugin) eventMiddleware(t target, ev *socketio.Event) *EventRejection {
	c := p.newCall(KindEventMiddleware)
	defer freeCall(c)
	c.sock = t
	c.event = ev.Name
	c.atts = ev.Attachments
	ff := frameFields{
		natts: uint32(len(ev.Attachments)), namespace: t.Namespace(), socketID: t.ID(),
		name: ev.Name, args: ev.Args,
	}
	if ev.HasAck {
		ff.flags |= FlagHasAck
		ff.ackID = ev.AckID
	}
	c.frame = encodeFrame(c.frame, c.kind, &ff)
	if f := p.invoke(c); f != nil {
		return eventInternalError
	}
	if c.reject == nil {
		return nil
	}
	r := &EventRejection{Message: c.reject.Message}
	if c.reject.Data != nil {
		r.Data = c.reject.Data
	}
	return r
}
