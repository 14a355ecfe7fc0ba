package plugin

import "strconv"

// rebasePlaceholders returns args (valid JSON) with the num of every
// binary placeholder {"_placeholder":true,"num":N} increased by off, so
// that the answers of several sockets can share one attachment list.
// args is returned unchanged when off is 0 or it has no placeholder.
func rebasePlaceholders(args []byte, off int) []byte {
	if off == 0 {
		return args
	}
	var spans [][2]int
	if _, ok := scanPlaceholders(args, 0, &spans); !ok || len(spans) == 0 {
		return args
	}
	out := make([]byte, 0, len(args)+4*len(spans))
	last := 0
	for _, sp := range spans {
		n, err := strconv.Atoi(string(args[sp[0]:sp[1]]))
		if err != nil {
			continue
		}
		out = append(out, args[last:sp[0]]...)
		out = strconv.AppendInt(out, int64(n+off), 10)
		last = sp[1]
	}
	return append(out, args[last:]...)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanPlaceholders scans the JSON value at b[i] and appends the spans of
// the num values of the placeholders in it; it returns the index after the
// value.
func scanPlaceholders(b []byte, i int, spans *[][2]int) (int, bool) {
	i = skipWS(b, i)
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipStr(b, i)
	case '[':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = scanPlaceholders(b, i, spans); !ok {
				return i, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return i, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			if b[i] != ',' {
				return i, false
			}
			i++
		}
	case '{':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		isPH := false
		num := [2]int{-1, -1}
		for {
			i = skipWS(b, i)
			ks := i
			ke, ok := skipStr(b, i)
			if !ok {
				return ke, false
			}
			i = skipWS(b, ke)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			vs := skipWS(b, i+1)
			ve, ok := scanPlaceholders(b, vs, spans)
			if !ok {
				return ve, false
			}
			switch string(b[ks:ke]) {
			case `"_placeholder"`:
				isPH = string(b[vs:ve]) == "true"
			case `"num"`:
				num = [2]int{vs, ve}
			}
			i = skipWS(b, ve)
			if i >= len(b) {
				return i, false
			}
			if b[i] == '}' {
				if isPH && num[0] >= 0 {
					*spans = append(*spans, num)
				}
				return i + 1, true
			}
			if b[i] != ',' {
				return i, false
			}
			i++
		}
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != ']' && b[j] != '}' && !isSpace(b[j]) {
		j++
	}
	return j, j > i
}

// skipStr returns the index after the JSON string at b[i].
func skipStr(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(b), false
}
