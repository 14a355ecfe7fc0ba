package msgpack

import (
	"math"
	"strconv"
	"time"
)

// AppendJSNumber appends f formatted as JavaScript's Number.prototype.toString
// formats it: the shortest digits that read back as f, in positional
// notation for 1e-6 <= |f| < 1e21 and as d.ddde±n otherwise; -0 is "0",
// NaN "NaN", and the infinities "Infinity" and "-Infinity". (In JSON,
// where JSON.stringify writes NaN and the infinities as null, this package
// writes null.)
func AppendJSNumber(dst []byte, f float64) []byte {
	switch {
	case f == 0:
		return append(dst, '0')
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	if out, ok := appendFewDecimals(dst, f); ok {
		return out
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		// Positional notation, of the same shortest digits: a value
		// from 1e-6 has shortest digits from 1e-6, one below 1e21
		// shortest digits below 1e21.
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	// strconv's shortest representation is ECMAScript's: the fewest
	// digits k such that the value reads back as f, the closest to f.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	// e is d[.ddd]e±xx
	var digits [20]byte
	k := 0
	i := 0
	for ; e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[k] = e[i]
			k++
		}
	}
	exp := 0
	neg := e[i+1] == '-'
	for _, c := range e[i+2:] {
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	n := exp + 1 // f = 0.digits × 10^n
	d := digits[:k]
	switch {
	case k <= n && n <= 21:
		dst = append(dst, d...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		dst = append(dst, d[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	default:
		dst = append(dst, d[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

// appendFewDecimals appends f, which is not an integer, in positional
// notation if at most four decimals write it, as the shortest form
// would; ok is false otherwise. Below 1e11, a float64's spacing times
// 10^4 is under 1/8, so at most one number of k decimals (k <= 4) reads
// back as f: the nearest to f×10^k, which m/10^k == f confirms (an
// integer below 2^53 divided by an exact power of ten rounds once). The
// smallest such k gives the fewest digits.
func appendFewDecimals(dst []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if a >= 1e11 || a < 1e-4 {
		return dst, false
	}
	for k := 1; k <= 4; k++ {
		p := pow10[k]
		m := math.Round(a * p)
		if m/p != a {
			continue
		}
		if f < 0 {
			dst = append(dst, '-')
		}
		u, q := uint64(m), uint64(p)
		dst = strconv.AppendUint(dst, u/q, 10)
		dst = append(dst, '.')
		frac := u % q
		for q /= 10; q > frac && q > 1; q /= 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendUint(dst, frac, 10), true
	}
	return dst, false
}

// AppendJSONNumber appends f as JSON.stringify does: null for NaN and the
// infinities.
func AppendJSONNumber(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return AppendJSNumber(dst, f)
}

// appendISODate appends a Date of ms milliseconds (a TimeClip'ed value) as
// JSON.stringify writes it: its toISOString in quotes, or null for an
// invalid Date.
func appendISODate(dst []byte, ms float64) []byte {
	if math.IsNaN(ms) {
		return append(dst, "null"...)
	}
	t := time.UnixMilli(int64(ms)).UTC()
	dst = append(dst, '"')
	y := t.Year()
	switch {
	case y < 0:
		dst = append(dst, '-')
		dst = appendPadded(dst, -y, 6)
	case y > 9999:
		dst = append(dst, '+')
		dst = appendPadded(dst, y, 6)
	default:
		dst = appendPadded(dst, y, 4)
	}
	dst = append(dst, '-')
	dst = appendPadded(dst, int(t.Month()), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, t.Day(), 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, t.Hour(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.Minute(), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.Second(), 2)
	dst = append(dst, '.')
	dst = appendPadded(dst, t.Nanosecond()/1e6, 3)
	return append(dst, 'Z', '"')
}

func appendPadded(dst []byte, v, width int) []byte {
	var buf [12]byte
	b := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}
