package warc

import (
	"strings"
	"testing"
)

// TestPostQuery: the query a request body becomes, against what
// warcio.js 2.4.11's postToGetUrl gives for the same request (the
// requestBody it writes), and the key of the URL it is folded into.
func TestPostQuery(t *testing.T) {
	const url = "https://example.com/api/search?x=1"
	tests := []struct {
		method, ctype, body string
		query, key          string
	}{
		{"POST", "application/x-www-form-urlencoded", "b=2&a=1", "b=2&a=1",
			"com,example)/api/search?__wb_method=post&a=1&b=2&x=1"},
		{"POST", "application/x-www-form-urlencoded; charset=UTF-8", "q=amber&lang=en%20GB", "q=amber&lang=en%20GB",
			"com,example)/api/search?__wb_method=post&lang=en%20gb&q=amber&x=1"},
		{"POST", "application/json",
			`{"query":"amber","page":2,"tags":["a","b"],"nested":{"query":"x","ok":true,"n":null},"10":"ten","2":"two","f":1.5,"e":""}`,
			"2=two&10=ten&query=amber&page=2&tags=a&tags.2_=b&query.2_=x&ok=true&n=null&f=1.5",
			// Arguments sorted by name, then value, as pywb's surt does
			// (warcio.js sorts "query.2_=x" before "query=amber").
			"com,example)/api/search?10=ten&2=two&__wb_method=post&f=1.5&n=null&ok=true&page=2&query=amber&query.2_=x&tags=a&tags.2_=b&x=1"},
		{"POST", "application/json", "not json", "", "com,example)/api/search?&__wb_method=post&x=1"},
		{"POST", "text/plain", `{"a":"b c"}`, "a=b+c", "com,example)/api/search?__wb_method=post&a=b+c&x=1"},
		{"POST", "text/plain", "hello", "", "com,example)/api/search?&__wb_method=post&x=1"},
		{"PUT", "application/octet-stream", "\x00\x01binary\xff", "__wb_post_data=AAFiaW5hcnn/",
			"com,example)/api/search?__wb_method=put&__wb_post_data=aafiaw5hcnn/&x=1"},
		{"POST", "", "raw body", "__wb_post_data=cmF3IGJvZHk=", "com,example)/api/search?__wb_method=post&__wb_post_data=cmf3igjvzhk=&x=1"},
		{"POST", "multipart/form-data; boundary=----XyZ",
			"------XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello world\r\n------XyZ\r\n" +
				"Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\ndata\r\n------XyZ--\r\n",
			"title=Hello+world", "com,example)/api/search?__wb_method=post&title=hello+world&x=1"},
		// A malformed escape clears the query folded into the key, not the
		// requestBody.
		{"POST", "application/x-www-form-urlencoded", "bad=%E0%A4%A&x=1", "bad=%E0%A4%A&x=1", "com,example)/api/search?&__wb_method=post&x=1"},
	}
	for _, tt := range tests {
		q, ok := PostQuery(tt.method, tt.ctype, []byte(tt.body))
		if !ok || q != tt.query {
			t.Errorf("PostQuery(%s, %q, %q) = %q, %v; want %q", tt.method, tt.ctype, tt.body, q, ok, tt.query)
			continue
		}
		if key := SURT(PostKeyURL(url, tt.method, q)); key != tt.key {
			t.Errorf("key of %s %q = %s, want %s", tt.method, tt.body, key, tt.key)
		}
	}
	if _, ok := PostQuery("GET", "", nil); ok {
		t.Error("a GET has a post query")
	}
	if got := PostKeyURL(url, "GET", "a=1"); got != url {
		t.Errorf("PostKeyURL of a GET = %s", got)
	}
	long, _ := PostQuery("POST", "application/x-www-form-urlencoded", []byte("a="+strings.Repeat("x", 10000)))
	if len(long) != maxPostQuery {
		t.Errorf("a long body gives a query of %d characters, want %d", len(long), maxPostQuery)
	}
}

// TestDecodeURI: JavaScript's decodeURI, reserved characters kept encoded.
func TestDecodeURI(t *testing.T) {
	for in, want := range map[string]string{
		"a%20b":           "a b",
		"u=%C3%A9t%C3%A9": "u=été",
		"s=a%26b&p=1%2B1": "s=a%26b&p=1%2B1",
		"%2f%3F%23":       "%2f%3F%23",
		"%E0%A4%A":        "",
		"%":               "",
		"%C3":             "",
		"%FF":             "",
		"plain":           "plain",
	} {
		if got := decodeURI(in); got != want {
			t.Errorf("decodeURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzPostQuery(f *testing.F) {
	f.Add("POST", "application/json", []byte(`{"a":[1,{"b":null}],"0":true}`))
	f.Add("POST", "multipart/form-data; boundary=(", []byte("--(\r\nname=\"a\"\r\n\r\nb"))
	f.Add("PUT", "application/x-www-form-urlencoded", []byte("a=%zz"))
	f.Fuzz(func(t *testing.T, method, ctype string, body []byte) {
		q, _ := PostQuery(method, ctype, body)
		if utf16Len(q) > maxPostQuery {
			t.Fatalf("query of %d characters", utf16Len(q))
		}
		key := SURT(PostKeyURL("http://example.com/p", method, q))
		if strings.ContainsAny(key, " \t\r\n") {
			t.Fatalf("key %q holds white space", key)
		}
	})
}
