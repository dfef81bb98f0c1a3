package crawl

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

func TestOwnTraffic(t *testing.T) {
	for host, want := range map[string]bool{
		"accounts.google.com": true, "update.googleapis.com": true, "optimizationguide-pa.googleapis.com": true,
		"redirector.gvt1.com": true, "clients2.google.com": true, "clientservices.google.com": true, "CLIENTS1.GOOGLE.COM.": true,
		"www.google.com": false, "news.example": false, "clients.example.google.com": false, "googleapis.com.evil": false, "127.0.0.1": false,
	} {
		if got := ownTraffic(host); got != want {
			t.Errorf("ownTraffic(%q) = %t, want %t", host, got, want)
		}
	}
}

// TestBrowserRefuses: what the browser asks for when no page is loading,
// and Chromium's own hosts while a page of another host loads, are
// refused before anything is sent.
func TestBrowserRefuses(t *testing.T) {
	bm := &browserMode{cr: &crawler{}, hosts: map[string]int{}, css: map[string][]string{}}
	try := func(u string) error {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		resp, err := bm.roundTrip(context.Background(), req)
		if resp != nil {
			resp.Body.Close()
		}
		return err
	}
	var own *OwnTrafficError
	if err := try("http://127.0.0.1:1/late.js"); !errors.As(err, &own) {
		t.Errorf("no page loading: %v, want an OwnTrafficError", err)
	}
	bm.enter("news.example", 1)
	if err := try("https://accounts.google.com/ListAccounts"); !errors.As(err, &own) || own.Host != "accounts.google.com" {
		t.Errorf("accounts.google.com: %v, want an OwnTrafficError", err)
	}
	bm.enter("accounts.google.com", 1)
	if loading, onHost := bm.loading("accounts.google.com"); !loading || !onHost {
		t.Errorf("a page on accounts.google.com: its requests are the page's")
	}
	bm.enter("accounts.google.com", -1)
	bm.enter("news.example", -1)
	if loading, _ := bm.loading("news.example"); loading || len(bm.hosts) != 0 {
		t.Errorf("pages left loading: %v", bm.hosts)
	}
}
