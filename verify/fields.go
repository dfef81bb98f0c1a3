package verify

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/amber-archiver/amber/warc"
)

// recordTypes are the WARC/1.1 record types and the fields each requires
// beyond the four every record has.
var recordTypes = map[string][]string{
	"warcinfo":     nil,
	"response":     {"WARC-Target-URI"},
	"resource":     {"WARC-Target-URI"},
	"request":      {"WARC-Target-URI"},
	"metadata":     nil,
	"revisit":      {"WARC-Target-URI", "WARC-Profile"},
	"conversion":   {"WARC-Target-URI"},
	"continuation": {"WARC-Target-URI", "WARC-Segment-Origin-ID", "WARC-Segment-Number"},
}

// standardFields are the fields of WARC/1.1 section 5, each with a bit for
// finding repeats without allocating. Only WARC-Concurrent-To may repeat.
var standardFields = func() map[string]uint32 {
	m := map[string]uint32{}
	for i, f := range []string{"WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type", "Content-Type",
		"WARC-Block-Digest", "WARC-Payload-Digest", "WARC-IP-Address", "WARC-Refers-To",
		"WARC-Refers-To-Target-URI", "WARC-Refers-To-Date", "WARC-Target-URI", "WARC-Truncated",
		"WARC-Warcinfo-ID", "WARC-Filename", "WARC-Profile", "WARC-Identified-Payload-Type",
		"WARC-Segment-Number", "WARC-Segment-Origin-ID", "WARC-Segment-Total-Length"} {
		m[f] = 1 << i
		m[strings.ToLower(f)] = 1 << i
	}
	return m
}()

// standardBit returns the bit of a standard field name in any case, or 0.
func standardBit(name string) uint32 {
	if bit, ok := standardFields[name]; ok {
		return bit
	}
	if len(name) < 8 || !strings.EqualFold(name[:5], "warc-") && !strings.EqualFold(name[:8], "content-") {
		return 0
	}
	return standardFields[strings.ToLower(name)]
}

// Revisit profiles (WARC/1.1 section 6.7, and the WARC/1.0 names).
var revisitProfiles = map[string]bool{
	"http://netpreserve.org/warc/1.1/revisit/identical-payload-digest": true,
	"http://netpreserve.org/warc/1.0/revisit/identical-payload-digest": true,
	"http://netpreserve.org/warc/1.1/revisit/server-not-modified":      true,
	"http://netpreserve.org/warc/1.0/revisit/server-not-modified":      true,
}

// checkFields checks the version line and the header fields of the record
// being checked: presence, repetition and syntax.
func (c *checker) checkFields(rec *warc.Record) {
	for _, p := range rec.Problems {
		sev := Error
		if p.Deviation {
			sev = Warning
		}
		c.add(sev, "header line %d: %s", p.Line, p.Msg)
	}
	switch rec.Version {
	case "WARC/1.0", "WARC/1.1":
	case "WARC/0.17", "WARC/0.18":
		c.add(Warning, "version %s predates the standard; checked as WARC/1.0", rec.Version)
	default:
		c.add(Error, "version %q is not WARC/1.0 or WARC/1.1", clip(rec.Version))
	}
	h := rec.Header
	var seen, repeated uint32
	for _, f := range h {
		bit := standardBit(f.Name)
		if seen&bit != 0 && repeated&bit == 0 {
			repeated |= bit
			c.add(Error, "field %s occurs more than once", f.Name)
		}
		seen |= bit
	}
	for _, name := range []string{"WARC-Record-ID", "WARC-Date", "WARC-Type"} {
		if !h.Has(name) {
			c.add(Error, "missing mandatory field %s", name)
		}
	}
	typ := h.Get("WARC-Type")
	required, known := recordTypes[typ]
	if !known && typ != "" {
		c.add(Warning, "unknown record type %q: only its framing and block digest are checked", clip(typ))
	}
	for _, name := range required {
		if h.Get(name) == "" {
			c.add(Error, "a %s record must have %s", typ, name)
		}
	}

	if v := h.Get("WARC-Record-ID"); h.Has("WARC-Record-ID") && !isBracketedURI(v) {
		c.add(Error, "WARC-Record-ID %q is not a URI in angle brackets", clip(v))
	}
	for _, name := range []string{"WARC-Concurrent-To", "WARC-Refers-To", "WARC-Warcinfo-ID", "WARC-Segment-Origin-ID"} {
		for _, v := range h.Values(name) {
			if !isBracketedURI(v) {
				c.add(Error, "%s %q is not a URI in angle brackets", name, clip(v))
			}
		}
	}
	for _, name := range []string{"WARC-Date", "WARC-Refers-To-Date"} {
		if v := h.Get(name); (v != "" || name == "WARC-Date" && h.Has(name)) && !isWARCDate(v) {
			c.add(Error, "%s %q is not a UTC date in W3C-ISO8601 form (e.g. 2024-05-06T07:08:09Z)", name, clip(v))
		}
	}
	for _, name := range []string{"WARC-Target-URI", "WARC-Refers-To-Target-URI"} {
		if v := h.Get(name); v != "" && strings.ContainsAny(v, " \t") {
			// Not a valid URI, but nothing is lost: tools archiving local
			// files write such names, and readers take them as written
			// (amber's index percent-encodes the spaces in the key).
			c.add(Warning, "%s %q contains whitespace, which a URI may not: readers take it as written", name, clip(v))
		}
	}
	if v := h.Get("WARC-IP-Address"); v != "" {
		if _, err := netip.ParseAddr(v); err != nil {
			c.add(Error, "WARC-IP-Address %q is not an IPv4 or IPv6 address", clip(v))
		}
	}
	if v := h.Get("WARC-Truncated"); v != "" {
		switch v {
		case "length", "time", "disconnect", "unspecified":
		default:
			c.add(Warning, "WARC-Truncated %q is not one of length, time, disconnect, unspecified", clip(v))
		}
	}
	if v := h.Get("WARC-Segment-Number"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || typ == "continuation" && n < 2 {
			c.add(Error, "WARC-Segment-Number %q is not a segment number", clip(v))
		}
	}
	if v := h.Get("WARC-Segment-Total-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
			c.add(Error, "WARC-Segment-Total-Length %q is not a length", clip(v))
		}
	}
	if rec.ContentLength > 0 && known && typ != "continuation" && !h.Has("Content-Type") {
		c.add(Warning, "no Content-Type for a block of %d bytes", rec.ContentLength)
	}
	if typ == "revisit" {
		p := h.Get("WARC-Profile")
		switch {
		case p == "":
		case !revisitProfiles[p]:
			c.add(Warning, "unknown revisit profile %q: the record it refers to is not looked for", clip(p))
		case strings.HasSuffix(p, "/identical-payload-digest") && !h.Has("WARC-Payload-Digest"):
			c.add(Warning, "identical-payload-digest revisit without WARC-Payload-Digest: the payload it stands for cannot be found")
		}
	}
}

// isBracketedURI reports whether v is "<scheme:...>" without whitespace.
func isBracketedURI(v string) bool {
	if len(v) < 4 || v[0] != '<' || v[len(v)-1] != '>' {
		return false
	}
	inner := v[1 : len(v)-1]
	colon := strings.IndexByte(inner, ':')
	if colon < 1 {
		return false
	}
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c <= ' ' || c == 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// isWARCDate reports whether v is a W3C-ISO8601 UTC date of second or finer
// precision, as WARC-Date requires.
func isWARCDate(v string) bool {
	if len(v) < len("2006-01-02T15:04:05Z") || !strings.HasSuffix(v, "Z") || v[10] != 'T' {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return err == nil && !t.IsZero()
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
