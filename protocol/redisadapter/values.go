package redisadapter

import (
	"errors"
	"fmt"

	"github.com/sockwasm/sockwasm/protocol/msgpack"
)

// reader reads the msgpack values of one message with a msgpack.Reader;
// the package's decoders are its methods.
type reader struct{ *msgpack.Reader }

// newReader returns a reader of msg; Release puts it back in its pool.
func newReader(msg []byte, lim Limits) reader { return reader{msgpack.NewReader(msg, lim)} }

// writer writes msgpack values with a msgpack.Writer; the package's
// encoders are its methods.
type writer struct{ *msgpack.Writer }

// getWriter returns a writer appending to dst; Done returns the result.
func getWriter(dst []byte) writer { return writer{msgpack.NewWriter(dst)} }

// errNoBinary reports a binary value in a member that carries JSON only.
var errNoBinary = fmt.Errorf("%w: binary value in a JSON-only member", ErrInvalidMessage)

// jsonValue is Reader.AppendJSONValue; a binary value where atts is nil
// (a member that carries JSON only) is an invalid message.
func (r reader) jsonValue(dst []byte, t msgpack.Token, atts *[][]byte, depth int) ([]byte, bool, error) {
	out, defined, err := r.AppendJSONValue(dst, t, atts, depth)
	if errors.Is(err, msgpack.ErrUnexpectedBinary) {
		err = errNoBinary
	}
	return out, defined, err
}
