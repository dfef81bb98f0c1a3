package extract

import (
	"bytes"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// ToUTF8 decodes a text body whose Content-Type names another charset
// than UTF-8, so that non-ASCII characters in URLs and titles come out as
// a browser reads them.
func ToUTF8(body []byte, contentType string) []byte {
	if !strings.Contains(contentType, "charset") || strings.Contains(contentType, "utf-8") || strings.Contains(contentType, "utf8") {
		return body
	}
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return body
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return body
	}
	return out
}

// LooksLikeHTML reports whether a body served without a Content-Type
// starts as an HTML document does.
func LooksLikeHTML(b []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(b[:min(len(b), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}
