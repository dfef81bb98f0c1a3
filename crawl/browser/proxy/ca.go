package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"
)

// CA is a certificate authority that lives in memory for one run: its key
// is never written anywhere, so the certificates it makes are worth
// nothing once the process ends. It signs a leaf certificate for each host
// the browser connects to, on first use, and keeps it.
//
// Every leaf shares one key (made with the CA), as mitmproxy does: a
// leaf then costs one signature, and the SPKI hash of every leaf is the
// same, so a browser can be told to trust either the CA's or the leaves'.
type CA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	leafKey *ecdsa.PrivateKey

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

// maxLeaves bounds the leaf cache; past it the cache starts again (a
// crawl's pages rarely reach more than a few hundred hosts).
const maxLeaves = 10000

// leafValidity is how long a leaf is valid, from an hour before it is
// made (clocks disagree). The CA is valid for as long as the process
// could run with it.
const leafValidity = 30 * 24 * time.Hour

// NewCA makes a CA with a fresh P-256 key.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("proxy: CA key: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("proxy: leaf key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"amber"}, CommonName: "amber in-memory proxy CA " + now.UTC().Format(time.RFC3339)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(leafValidity + 24*time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("proxy: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("proxy: CA certificate: %w", err)
	}
	return &CA{cert: cert, key: key, leafKey: leafKey, leaves: map[string]*tls.Certificate{}}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// Certificate is the CA's certificate (to trust in a Go client, or to
// show a user; it is never installed anywhere by amber).
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// SPKIHash is the base64 SHA-256 of the CA's SubjectPublicKeyInfo, in
// the form Chromium's --ignore-certificate-errors-spki-list takes.
// Chromium (156, tested) accepts a chain in which any certificate the
// server sent has a listed SPKI; the proxy sends leaf and CA, so this
// hash and LeafSPKIHash both work.
func (ca *CA) SPKIHash() string { return spkiHash(ca.cert.RawSubjectPublicKeyInfo) }

// LeafSPKIHash is the base64 SHA-256 of the SubjectPublicKeyInfo that
// every leaf of this CA has.
func (ca *CA) LeafSPKIHash() string {
	der, err := x509.MarshalPKIXPublicKey(&ca.leafKey.PublicKey)
	if err != nil {
		return "" // a P-256 key always marshals
	}
	return spkiHash(der)
}

func spkiHash(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Leaf returns the certificate chain (leaf, CA) for host, a DNS name or
// an IP address (without port or brackets), made on first use.
func (ca *CA) Leaf(host string) (*tls.Certificate, error) {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" || len(host) > 253 || strings.ContainsAny(host, " \t\r\n/\\*") {
		return nil, fmt.Errorf("%w %q", ErrBadHost, host)
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c, ok := ca.leaves[host]; ok && time.Now().Before(c.Leaf.NotAfter) {
		return c, nil
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"amber"}, CommonName: host},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &ca.leafKey.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("proxy: certificate for %s: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("proxy: certificate for %s: %w", host, err)
	}
	c := &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: ca.leafKey, Leaf: leaf}
	if len(ca.leaves) >= maxLeaves {
		clear(ca.leaves)
	}
	ca.leaves[host] = c
	return c, nil
}
