// Command site serves the latency-bound site of the distributed-crawl
// benchmark (bench/distributed/run.sh): many hosts, a fixed delay before
// every response, small bodies. Each host is its own loopback address,
// 127.0.X.Y (Linux routes all of 127.0.0.0/8 to lo), with its own port, so
// amber sees -hosts distinct hosts and nothing leaves the machine.
//
// Host h has -seeds-per-host chains of -depth pages: page /p/S-D.html
// links to the next page of its chain (the only new URL it holds), to the
// one before, and to -links first pages of other chains of its host (seeds,
// so already seen). The seeds file (-seeds) lists every first page, hosts
// interleaved; the all file (-all) lists every page, interleaved too.
// /robots.txt allows everything; anything else is a 404. Every response,
// robots.txt and 404s too, waits -delay.
//
// The server counts the requests in flight on each host (from the moment
// a request reaches the handler until its response is written; net/http
// sends a small response only when the handler returns) and the most
// seen at once, the requests for a URL asked for before, and the steady
// rate (requests a second between the 10th and the 90th percentile
// arrival). A control
// listener on 127.0.0.1 answers GET /stats (text, one "key value" a line),
// POST /reset (zero the counters), POST /close and POST /open (hold every
// request but for robots.txt, which amber fetches before it queues its
// seeds, until the gate opens; -gate starts closed).
//
// The first line on stdout is "control URL", then "hosts N", "pages N",
// "seeds N".
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type host struct {
	addr              string // IP:port
	inFlight, most    atomic.Int64
	requests, repeats atomic.Int64
}

type site struct {
	hosts       []*host
	chains      int // per host
	depth       int
	links       int
	body        int
	delay       time.Duration
	mu          sync.Mutex
	gate        chan struct{} // closed: open
	asked       map[string]bool
	times       []int64 // unix ns each request since the reset arrived, in order
	requestsAll atomic.Int64
	repeatsAll  atomic.Int64
	mostAll     atomic.Int64 // requests in flight on all hosts at once
	inFlightAll atomic.Int64
	filler      string
	first, last atomic.Int64 // unix ns of the first request since the reset, and of the last response
}

func main() {
	nHosts := flag.Int("hosts", 32, "number of hosts (127.0.X.Y addresses)")
	chains := flag.Int("seeds-per-host", 25, "chains of pages per host (their first pages are the seeds)")
	depth := flag.Int("depth", 10, "pages per chain")
	links := flag.Int("links", 4, "links from each page to first pages of other chains of its host")
	body := flag.Int("body", 1500, "bytes of filler text per page")
	delay := flag.Duration("delay", 50*time.Millisecond, "delay before every response")
	gate := flag.Bool("gate", false, "start with the gate closed (POST /open to the control URL opens it)")
	seeds := flag.String("seeds", "", "write the seed URLs (first pages) to `FILE`")
	all := flag.String("all", "", "write every page URL to `FILE`")
	flag.Parse()
	if *nHosts < 1 || *nHosts > 254*250 || *chains < 1 || *depth < 1 || *links < 0 || *body < 0 || *delay < 0 {
		log.Fatal("site: a flag is out of range")
	}
	s := newSite(*chains, *depth, *links, *body, *delay, *gate)
	for h := 0; h < *nHosts; h++ {
		ip := fmt.Sprintf("127.0.%d.%d", 2+h/254, 1+h%254)
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			log.Fatalf("site: %v", err)
		}
		srv := &http.Server{Handler: s.addHost(ln.Addr().String()), ReadHeaderTimeout: time.Minute}
		go func() { log.Fatal(srv.Serve(ln)) }()
	}
	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("site: %v", err)
	}
	go func() { log.Fatal(http.Serve(cl, s.control())) }()
	if *seeds != "" {
		s.writeURLs(*seeds, 1)
	}
	if *all != "" {
		s.writeURLs(*all, s.depth)
	}
	s.reset()
	fmt.Printf("control http://%s\nhosts %d\npages %d\nseeds %d\n", cl.Addr(), len(s.hosts),
		len(s.hosts)*s.chains*s.depth, len(s.hosts)*s.chains)
	os.Stdout.Sync()
	select {}
}

func newSite(chains, depth, links, body int, delay time.Duration, gateClosed bool) *site {
	s := &site{chains: chains, depth: depth, links: links, body: body, delay: delay,
		gate: make(chan struct{}), asked: map[string]bool{}}
	if !gateClosed {
		close(s.gate)
	}
	s.filler = strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", body/57+1)[:body]
	return s
}

// addHost adds the host at addr (IP:port) and returns its handler.
func (s *site) addHost(addr string) http.Handler {
	h := &host{addr: addr}
	s.hosts = append(s.hosts, h)
	return s.handler(h)
}

// writeURLs writes the pages of the first depth levels of every chain,
// level by level, chain by chain, host by host within a chain: consecutive
// URLs are on different hosts, as a crawl claims them.
func (s *site) writeURLs(file string, depth int) {
	var b strings.Builder
	for d := 0; d < depth; d++ {
		for c := 0; c < s.chains; c++ {
			for _, h := range s.hosts {
				fmt.Fprintf(&b, "http://%s/p/%d-%d.html\n", h.addr, c, d)
			}
		}
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		log.Fatalf("site: %v", err)
	}
}

func (s *site) handler(h *host) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.inFlight.Add(1)
		defer h.inFlight.Add(-1)
		for m := h.most.Load(); n > m && !h.most.CompareAndSwap(m, n); m = h.most.Load() {
		}
		all := s.inFlightAll.Add(1)
		defer s.inFlightAll.Add(-1)
		for m := s.mostAll.Load(); all > m && !s.mostAll.CompareAndSwap(m, all); m = s.mostAll.Load() {
		}
		now := time.Now().UnixNano()
		s.first.CompareAndSwap(0, now)
		h.requests.Add(1)
		s.requestsAll.Add(1)
		key := h.addr + r.URL.Path
		s.mu.Lock()
		again := s.asked[key]
		s.asked[key] = true
		s.times = append(s.times, now)
		gate := s.gate
		s.mu.Unlock()
		if again && r.URL.Path != "/robots.txt" { // workers starting together may each fetch robots.txt
			h.repeats.Add(1)
			s.repeatsAll.Add(1)
		}
		if r.URL.Path != "/robots.txt" { // a worker fetches it before it queues its seeds
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		if s.delay > 0 {
			t := time.NewTimer(s.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		defer func() { s.last.Store(time.Now().UnixNano()) }()
		if r.URL.Path == "/robots.txt" {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("User-agent: *\nAllow: /\n"))
			return
		}
		var c, d int
		if _, err := fmt.Sscanf(r.URL.Path, "/p/%d-%d.html", &c, &d); err != nil || c < 0 || c >= s.chains || d < 0 || d >= s.depth ||
			r.URL.Path != fmt.Sprintf("/p/%d-%d.html", c, d) {
			http.NotFound(w, r)
			return
		}
		page := s.page(h, c, d)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		w.Write(page)
	})
}

func (s *site) page(h *host, c, d int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s chain %d page %d</title></head>\n<body><h1>%s: chain %d, page %d</h1>\n<p>%s</p>\n<ul>\n", h.addr, c, d, h.addr, c, d, s.filler)
	if d+1 < s.depth {
		fmt.Fprintf(&b, "<li><a href=\"/p/%d-%d.html\">next</a></li>\n", c, d+1)
	}
	if d > 0 {
		fmt.Fprintf(&b, "<li><a href=\"%d-%d.html\">previous</a></li>\n", c, d-1)
	}
	for j := 1; j <= s.links && j < s.chains; j++ {
		fmt.Fprintf(&b, "<li><a href=\"/p/%d-0.html\">chain %d</a></li>\n", (c+j*7)%s.chains, (c+j*7)%s.chains)
	}
	b.WriteString("</ul></body></html>\n")
	return []byte(b.String())
}

func (s *site) reset() {
	s.mu.Lock()
	s.asked = map[string]bool{}
	s.times = s.times[:0]
	s.mu.Unlock()
	for _, h := range s.hosts {
		h.most.Store(h.inFlight.Load())
		h.requests.Store(0)
		h.repeats.Store(0)
	}
	s.mostAll.Store(s.inFlightAll.Load())
	s.requestsAll.Store(0)
	s.repeatsAll.Store(0)
	s.first.Store(0)
	s.last.Store(0)
}

func (s *site) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		var most int64
		mostHost := ""
		hostsAsked := 0
		for _, h := range s.hosts {
			if m := h.most.Load(); m > most {
				most, mostHost = m, h.addr
			}
			if h.requests.Load() > 0 {
				hostsAsked++
			}
		}
		// The steady rate: requests per second between the arrivals of the
		// 10th and the 90th percentile request (the start of the workers,
		// their first robots.txt and the end of the crawl aside).
		steady := 0.0
		s.mu.Lock()
		if n := len(s.times); n >= 20 {
			a, b := s.times[n/10], s.times[n*9/10]
			if b > a {
				steady = float64(n*9/10-n/10) / (float64(b-a) / 1e9)
			}
		}
		s.mu.Unlock()
		span := 0.0
		if f, l := s.first.Load(), s.last.Load(); f > 0 && l > f {
			span = float64(l-f) / 1e9
		}
		fmt.Fprintf(w, "requests %d\nrepeats %d\nhosts_asked %d\nmax_in_flight_per_host %d\nmax_host %s\nmax_in_flight_all %d\nin_flight %d\nspan_s %.3f\nsteady_rate %.1f\n",
			s.requestsAll.Load(), s.repeatsAll.Load(), hostsAsked, most, mostHost, s.mostAll.Load(), s.inFlightAll.Load(), span, steady)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) { s.reset() })
	mux.HandleFunc("POST /close", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		select {
		case <-s.gate:
			s.gate = make(chan struct{})
		default:
		}
		s.mu.Unlock()
	})
	mux.HandleFunc("POST /open", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		select {
		case <-s.gate:
		default:
			close(s.gate)
		}
		s.mu.Unlock()
	})
	return mux
}
