package gateway

import (
	"fmt"
	"strconv"
	"strings"
)

// byteRange is an inclusive range of bytes.
type byteRange struct {
	start, end int64
}

func (r byteRange) length() int64 { return r.end - r.start + 1 }

// parseRange parses a Range request header ("bytes=a-b", "bytes=a-", "bytes=-n")
// against a blob of size bytes. It reports ok=false for a header it does not
// understand or several ranges, in which case the whole blob is served; it returns
// errRangeInvalid for a range the blob cannot satisfy.
func parseRange(header string, size int64) (r byteRange, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false, nil
	}
	if first == "" { // suffix: the last n bytes
		n, perr := parseOffset(last)
		if perr != nil {
			return byteRange{}, false, nil
		}
		if n == 0 || size == 0 {
			return byteRange{}, false, errRangeInvalid
		}
		return byteRange{max(size-n, 0), size - 1}, true, nil
	}
	start, perr := parseOffset(first)
	if perr != nil {
		return byteRange{}, false, nil
	}
	end := size - 1
	if last != "" {
		if end, perr = parseOffset(last); perr != nil {
			return byteRange{}, false, nil
		}
	}
	if start > end || start >= size {
		return byteRange{}, false, errRangeInvalid
	}
	return byteRange{start, min(end, size-1)}, true, nil
}

// parseContentRange parses the Content-Range of an upload chunk. The distribution
// spec writes it "start-end"; "bytes start-end/total" and "bytes=start-end" are
// accepted too.
func parseContentRange(header string) (byteRange, error) {
	s := strings.TrimSpace(header)
	s = strings.TrimPrefix(s, "bytes=")
	s = strings.TrimPrefix(s, "bytes ")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	first, last, found := strings.Cut(s, "-")
	if !found {
		return byteRange{}, fmt.Errorf("%w: Content-Range %q", errRangeInvalid, clipHeader(header))
	}
	start, err1 := parseOffset(first)
	end, err2 := parseOffset(last)
	if err1 != nil || err2 != nil || end < start {
		return byteRange{}, fmt.Errorf("%w: Content-Range %q", errRangeInvalid, clipHeader(header))
	}
	return byteRange{start, end}, nil
}

// parseOffset parses a non-negative decimal offset without sign or spaces.
func parseOffset(s string) (int64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}

func clipHeader(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
