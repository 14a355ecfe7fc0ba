package socketio

import "strconv"

// Placeholder stands for a binary attachment inside JSON data; it encodes
// as {"_placeholder":true,"num":N}.
type Placeholder struct {
	Placeholder bool `json:"_placeholder"`
	Num         int  `json:"num"`
}

// AppendPlaceholder appends the placeholder of attachment num to dst.
func AppendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}

// Deconstruct replaces every []byte inside v (itself, or nested in []any
// and map[string]any values) with a Placeholder and returns the new value
// and the buffers, in placeholder order. v is not modified; containers
// holding buffers are copied. The result encodes with encoding/json.
func Deconstruct(v any) (any, [][]byte) {
	var bufs [][]byte
	out := deconstruct(v, &bufs)
	return out, bufs
}

func deconstruct(v any, bufs *[][]byte) any {
	switch t := v.(type) {
	case []byte:
		*bufs = append(*bufs, t)
		return Placeholder{Placeholder: true, Num: len(*bufs) - 1}
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deconstruct(e, bufs)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deconstruct(e, bufs)
		}
		return out
	}
	return v
}

// Reconstruct replaces the placeholders inside v, a value decoded by
// encoding/json (maps with "_placeholder": true and a numeric "num", or
// Placeholder values), with the attachments they refer to. It fails with
// ErrBadPlaceholder when a placeholder's num is out of range.
func Reconstruct(v any, atts [][]byte) (any, error) {
	switch t := v.(type) {
	case Placeholder:
		if t.Placeholder {
			return attachment(float64(t.Num), atts)
		}
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			r, err := Reconstruct(e, atts)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		if p, _ := t["_placeholder"].(bool); p {
			num, ok := t["num"].(float64)
			if !ok {
				return nil, ErrBadPlaceholder
			}
			return attachment(num, atts)
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			r, err := Reconstruct(e, atts)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

func attachment(num float64, atts [][]byte) ([]byte, error) {
	i := int(num)
	if float64(i) != num || i < 0 || i >= len(atts) {
		return nil, ErrBadPlaceholder
	}
	return atts[i], nil
}
