// Package e2e holds amber's end-to-end tests: the test news site archived
// by the amber binary, packed, and replayed in headless Chromium through
// ReplayWeb.page (from the WACZ and from the WARC file) and through
// amber replay; and every WARC file read by warcio, the JavaScript reader
// ReplayWeb.page is built on.
//
// The tests need Chromium (/usr/bin/chromium, or $AMBER_CHROMIUM), Node.js
// 20 or later with npm (playwright-core needs 20), and the npm packages of
// package.json, installed from the repository root with
//
//	apt-get install -y chromium
//	npm ci --prefix e2e
//	go test ./e2e -v
//
// Without them the tests are skipped, saying what is missing, unless
// AMBER_E2E_REQUIRED is set (as CI does), which makes that a failure. A screenshot
// of each replay goes to $AMBER_E2E_ARTIFACTS (default: e2e/artifacts/,
// which git ignores).
package e2e
