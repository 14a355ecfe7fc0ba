package logsafe

import (
	"strings"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// Text returns b as one line of printable text, at most max bytes of b
// taken (an ellipsis marks the cut): control characters become escapes
// (\n, \t, \r, \xNN), a backslash is doubled, invalid UTF-8 bytes become
// \xNN. Text that is already clean is returned unchanged, so the common
// case costs one scan and one string conversion.
func Text(b []byte, max int) string {
	cut := false
	if max >= 0 && len(b) > max {
		b, cut = b[:max], true
	}
	if clean(b) {
		if cut {
			return string(b) + "…"
		}
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 16)
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != 0x7f && c != '\\' {
			sb.WriteByte(c)
			i++
			continue
		}
		switch c {
		case '\\':
			sb.WriteString(`\\`)
			i++
			continue
		case '\n':
			sb.WriteString(`\n`)
			i++
			continue
		case '\r':
			sb.WriteString(`\r`)
			i++
			continue
		case '\t':
			sb.WriteString(`\t`)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(b[i:])
			if r != utf8.RuneError || size > 1 {
				if isC1(r) || r == '\u2028' || r == '\u2029' {
					escapeRune(&sb, b[i:i+size])
				} else {
					sb.Write(b[i : i+size])
				}
				i += size
				continue
			}
		}
		escapeRune(&sb, b[i:i+1])
		i++
	}
	if cut {
		sb.WriteString("…")
	}
	return sb.String()
}

// String is Text for a string.
func String(s string, max int) string { return Text([]byte(s), max) }

func escapeRune(sb *strings.Builder, b []byte) {
	for _, c := range b {
		sb.WriteString(`\x`)
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&0xf])
	}
}

// isC1 reports the C1 control characters (U+0080–U+009F), which some
// terminals act on.
func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// clean reports whether b needs no escaping.
func clean(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && size == 1) || isC1(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}
