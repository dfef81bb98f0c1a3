package warc

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A request other than GET (a form POST, a PUT, the XHR POSTs of
// script-built pages) shares its URL with every other request to that URL,
// so pywb and warcio.js (ReplayWeb.page's indexer) key its response by the
// URL with the request body folded into the query:
//
//	https://example.org/search?__wb_method=POST&q=amber
//
// amber writes the same keys, so its index lines mix with theirs and
// archives made by browser-based crawlers replay their POSTs. The rules
// below are warcio.js's postToGetUrl (warcio 2.4): the body becomes a
// query by its media type, the query is cut at maxPostQuery characters and
// percent-decoded as decodeURI does.

// maxPostQuery is the longest query a request body becomes, as warcio.js
// cuts it (DEFAULT_MAX_QUERY_SIZE).
const maxPostQuery = 4096

// maxPostBody is how much of a request body the indexer reads to make its
// query. A JSON body is flattened whole before the cut, so a bigger one
// could give a different key than warcio.js's (which reads it whole); such
// bodies are rare, and memory stays bounded.
const maxPostBody = 256 << 10

// PostQuery returns the query a request body becomes in the lookup key of
// its response (the CDXJ requestBody field), given the request's method
// and Content-Type; ok is false for GET, whose key is its URL.
func PostQuery(method, contentType string, body []byte) (query string, ok bool) {
	if method == "GET" || method == "" {
		return "", false
	}
	mime, _, _ := strings.Cut(contentType, ";")
	switch mime {
	case "application/x-www-form-urlencoded":
		query = decodeUTF8(body)
	case "application/json":
		query = jsonToQuery(body)
	case "text/plain":
		query = jsonToQuery(body)
	case "multipart/form-data":
		query = multipartToQuery(body, contentType)
	default:
		query = "__wb_post_data=" + base64.StdEncoding.EncodeToString(body)
	}
	if n := utf16Len(query); n > maxPostQuery {
		query = cutUTF16(query, maxPostQuery)
	}
	return query, true
}

// PostKeyURL is the URL a request's response is looked up by: rawURL
// itself for GET, else rawURL with "__wb_method=METHOD&" and the query of
// its body (from PostQuery) appended. SURT of it is the CDXJ key.
func PostKeyURL(rawURL, method, query string) string {
	if method == "GET" || method == "" {
		return rawURL
	}
	sep := "?"
	if strings.IndexByte(rawURL, '?') > 0 {
		sep = "&"
	}
	return rawURL + sep + "__wb_method=" + method + "&" + decodeURI(query)
}

// decodeUTF8 decodes b as a browser's TextDecoder does: invalid sequences
// become U+FFFD.
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// utf16Len and cutUTF16 count as JavaScript's string length does.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

func cutUTF16(s string, max int) string {
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > max {
			return s[:i]
		}
		n += w
	}
	return s
}

// decodeURI percent-decodes s as JavaScript's decodeURI does: escapes of
// the reserved characters ;/?:@&=+$,# stay; a malformed escape or invalid
// UTF-8 clears the whole query, as warcio.js then does.
func decodeURI(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		start := i
		var seq []byte
		for {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return ""
			}
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			seq = append(seq, byte(v))
			i += 2
			if utf8.FullRune(seq) || len(seq) >= utf8.UTFMax || seq[0] < 0x80 {
				break
			}
			if i+1 >= len(s) || s[i+1] != '%' {
				return ""
			}
			i++
		}
		if seq[0] < 0x80 {
			if strings.IndexByte(";/?:@&=+$,#", seq[0]) >= 0 {
				b.WriteString(s[start : i+1])
			} else {
				b.WriteByte(seq[0])
			}
			continue
		}
		if r, n := utf8.DecodeRune(seq); r == utf8.RuneError || n != len(seq) {
			return ""
		}
		b.Write(seq)
	}
	return b.String()
}

// jsonToQuery flattens a JSON body into a query as warcio.js's
// jsonToQueryParams does: every string, number and boolean (and null)
// becomes name=value under the name of the member holding it (array
// elements under the array's name), a repeated name gets ".2_", ".3_"...;
// a body that is not JSON gives an empty query.
func jsonToQuery(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	root, err := readJSON(dec, 0)
	if err != nil {
		return ""
	}
	if _, err := dec.Token(); err != io.EOF {
		return "" // trailing bytes: JSON.parse fails on the whole body
	}
	var q searchParams
	dupes := map[string]int{}
	name := func(key string) string {
		if !q.has(key) {
			return key
		}
		if dupes[key] == 0 {
			dupes[key] = 1
		}
		dupes[key]++
		return key + "." + strconv.Itoa(dupes[key]) + "_"
	}
	var walk func(n *jsonNode, key string)
	walk = func(n *jsonNode, key string) {
		switch {
		case n.object:
			for _, m := range n.members {
				walk(m.value, m.name)
			}
		case n.array:
			for _, e := range n.elems {
				walk(e, key)
			}
		case n.scalar != "":
			q.set(name(key), n.scalar)
		}
	}
	walk(root, "")
	return q.String()
}

// jsonNode is a parsed JSON value with its object members in the order
// JavaScript enumerates them.
type jsonNode struct {
	object, array bool
	members       []jsonMember
	elems         []*jsonNode
	scalar        string // a string, number, boolean or "null"; "" for an empty string
}

type jsonMember struct {
	name  string
	value *jsonNode
}

// maxJSONDepth bounds the nesting readJSON follows.
const maxJSONDepth = 200

func readJSON(dec *json.Decoder, depth int) (*jsonNode, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("warc: JSON nested too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	n := &jsonNode{}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.object = true
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				name, _ := k.(string)
				n.members = append(n.members, jsonMember{name, v})
			}
			// JavaScript lists integer-like member names first, in numeric
			// order, then the others as written.
			slices.SortStableFunc(n.members, func(a, b jsonMember) int {
				ai, aok := arrayIndex(a.name)
				bi, bok := arrayIndex(b.name)
				switch {
				case aok && bok:
					return cmp.Compare(ai, bi)
				case aok:
					return -1
				case bok:
					return 1
				}
				return 0
			})
		case '[':
			n.array = true
			for dec.More() {
				v, err := readJSON(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case nil:
		n.scalar = "null"
	case string:
		n.scalar = t
	case bool:
		n.scalar = strconv.FormatBool(t)
	case json.Number:
		n.scalar = jsNumber(t)
	}
	return n, nil
}

// arrayIndex reports whether s is a canonical array index, a member name
// JavaScript orders numerically before the others.
func arrayIndex(s string) (int64, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0 && n < 1<<32-1
}

// jsNumber renders a JSON number as JavaScript's Number.toString does for
// the usual cases.
func jsNumber(n json.Number) string {
	f, err := n.Float64()
	if err != nil {
		return n.String()
	}
	if f == float64(int64(f)) && f < 1e21 && f > -1e21 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// searchParams is the part of URLSearchParams the conversions use: set
// replaces the first pair of a name, and String serialises as
// application/x-www-form-urlencoded.
type searchParams struct {
	pairs [][2]string
	seen  map[string]bool
}

func (q *searchParams) has(name string) bool { return q.seen[name] }

func (q *searchParams) set(name, value string) {
	if q.seen == nil {
		q.seen = map[string]bool{}
	}
	if q.seen[name] {
		for i := range q.pairs {
			if q.pairs[i][0] == name {
				q.pairs[i][1] = value
				return
			}
		}
	}
	q.seen[name] = true
	q.pairs = append(q.pairs, [2]string{name, value})
}

func (q *searchParams) String() string {
	var b strings.Builder
	for i, p := range q.pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(formEscape(p[0]))
		b.WriteByte('=')
		b.WriteString(formEscape(p[1]))
	}
	return b.String()
}

// formEscape is the application/x-www-form-urlencoded byte serializer of
// the URL standard: alphanumerics and *-._ as they are, space as '+'.
func formEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '*', c == '-', c == '.', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// multipartPart matches a form field's name and the first line of its
// value, as warcio.js's mfdToQueryParams reads a multipart body.
// JavaScript's '.' stops at CR and the Unicode line separators too.
var multipartPart = regexp.MustCompile(`(?im)name="([^"]+)"\r\n\r\n([^\r\n\x{2028}\x{2029}]*)`)

// multipartToQuery turns a multipart/form-data body into a query: every
// part whose name is followed by the blank line (a plain field, not a
// file) gives name=first line of its value.
func multipartToQuery(body []byte, contentType string) string {
	_, boundary, ok := strings.Cut(contentType, "boundary=")
	if !ok {
		return ""
	}
	if i := strings.Index(boundary, "boundary="); i >= 0 {
		boundary = boundary[:i] // split("boundary=")[1] ends at the next one
	}
	sep, err := regexp.Compile("(?mi)-*" + boundary + "-*")
	if err != nil {
		return ""
	}
	var q searchParams
	for _, part := range sep.Split(decodeUTF8(body), -1) {
		m := multipartPart.FindStringSubmatch(strings.TrimSpace(part))
		if m != nil {
			q.set(m[1], m[2])
		}
	}
	return q.String()
}
