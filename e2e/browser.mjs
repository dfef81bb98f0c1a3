// Replays an archived article in headless Chromium and checks what a reader
// would see. Run by e2e_test.go:
//
//   node browser.mjs CONFIG.json
//
// CONFIG is
//
//   {
//     "chromium": "/usr/bin/chromium",
//     "headline": "...",            // text of the article's <h1>
//     "article": "http://...",      // the article's original URL
//     "archived": {"http://...": 200, ...},  // every archived URL, its status
//     "screenshots": "DIR",
//     "timeoutMs": 30000,
//     "runs": [{"name": "wacz", "url": "http://127.0.0.1:N/wacz.html", "viewer": "replaywebpage"},
//              {"name": "amber-replay", "url": "http://127.0.0.1:M/", "viewer": "amber"}]
//   }
//
// An amber run opens the article from the index page at its url, unless
// it has "direct": "yes" and its url is the article's archival URL.
//
// For each run it prints one JSON line with what it found; it exits 1 if a
// check failed. The checks: the headline is visible; every image that has
// a source loaded (naturalWidth > 0), except those archived as errors;
// no archived URL answered 404 during replay; every URL replayed is in the
// archive; and, for amber replay, no request left the replay server.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const timeout = config.timeoutMs || 30000;

// ReplayWeb.page (wabac) serves captures at .../w/COLL/[TIMESTAMP][mod]/URL,
// amber replay at /TIMESTAMP[mod]/URL.
const archivalRe = /\/(?:w\/[^/]+\/)?(\d{4,14})?(?:[a-z]{2}_)?\/(https?:\/\/?.*)$/;

function originalURL(u) {
  let path;
  try {
    const p = new URL(u);
    path = p.pathname + p.search;
  } catch {
    return null;
  }
  const m = archivalRe.exec(path);
  if (!m) return null;
  return m[2].replace(/^(https?):\/(?!\/)/, "$1://");
}

// Archived URLs are compared without the fragment and with the host in
// lower case.
function norm(u) {
  try {
    const p = new URL(u);
    p.hash = "";
    return p.href;
  } catch {
    return u;
  }
}
const archived = new Map(Object.entries(config.archived).map(([u, s]) => [norm(u), s]));

async function contentFrame(page, run) {
  // The frame showing the article: the page itself for amber replay, a
  // frame nested in ReplayWeb.page's shadow DOM for the viewer.
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const f of page.frames()) {
      const orig = originalURL(f.url());
      if (orig && norm(orig) === norm(config.article)) {
        try {
          const n = await f.locator("h1").count();
          if (n > 0) return f;
        } catch {
          // the frame navigated meanwhile
        }
      }
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`${run.name}: no frame showed ${config.article} within ${timeout} ms; frames: ${page.frames().map((f) => f.url()).join(", ")}`);
}

async function check(browser, run) {
  const result = { name: run.name, failures: [], requests: 0, replayed: 0, notArchived: [], images: [] };
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: "allow" });
  const page = await context.newPage();
  const origin = new URL(run.url).origin;
  const responses = [];
  page.on("response", (resp) => responses.push({ url: resp.url(), status: resp.status() }));
  page.on("requestfailed", (req) => {
    if (!req.url().startsWith("data:")) responses.push({ url: req.url(), status: 0, error: req.failure()?.errorText });
  });
  const offsite = [];
  page.on("request", (req) => {
    const u = req.url();
    if (!u.startsWith(origin + "/") && !u.startsWith("data:") && !u.startsWith("blob:") && !u.startsWith("about:")) offsite.push(u);
  });
  page.on("pageerror", (err) => result.pageErrors = (result.pageErrors || []).concat(String(err)));

  try {
    await page.goto(run.url, { timeout });
    if (run.viewer === "amber" && !run.direct) {
      // The index page lists the article; open it as a reader would.
      await page.getByRole("link", { name: config.headline }).first().click({ timeout });
    }
    const frame = await contentFrame(page, run);
    result.frameURL = frame.url();
    const h1 = frame.locator("h1", { hasText: config.headline });
    await h1.first().waitFor({ state: "visible", timeout });
    result.headlineVisible = await h1.first().isVisible();
    if (run.viewer === "amber") {
      // The banner is in the top frame; the article in its sandboxed frame.
      result.banner = await page.mainFrame().locator("#amber-replay-banner").innerText({ timeout });
      if (frame === page.mainFrame()) result.failures.push("the article is the top window, not in its frame");
    }

    // Let every image finish, loaded or failed.
    await frame.waitForFunction(() => Array.from(document.images).every((img) => img.complete), null, { timeout });
    await frame.waitForLoadState("load", { timeout });
    await page.waitForTimeout(500); // late requests (fonts, media posters)
    result.images = await frame.evaluate(() =>
      Array.from(document.images).map((img) => ({
        src: img.getAttribute("src") || "",
        currentSrc: img.currentSrc,
        naturalWidth: img.naturalWidth,
        complete: img.complete,
      })),
    );
    for (const img of result.images) {
      if (!img.currentSrc || img.currentSrc.startsWith("data:")) {
        img.skipped = img.currentSrc ? "data: URL, not archived" : "no source (lazy image without script)";
        continue;
      }
      const orig = originalURL(img.currentSrc);
      img.original = orig;
      const status = orig ? archived.get(norm(orig)) : undefined;
      if (status !== undefined && status >= 400) {
        img.skipped = `archived as ${status}`;
        continue;
      }
      if (!(img.naturalWidth > 0)) {
        result.failures.push(`image did not load: ${orig || img.currentSrc} (naturalWidth ${img.naturalWidth})`);
      }
    }

    const file = join(config.screenshots, `${run.name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    result.screenshot = file;
  } catch (err) {
    result.failures.push(String(err && err.stack ? err.stack.split("\n")[0] : err));
  }

  for (const r of responses) {
    const orig = originalURL(r.url);
    if (!orig) continue;
    result.replayed++;
    const status = archived.get(norm(orig));
    if (status === undefined) {
      result.notArchived.push(`${orig} (${r.status})`);
      result.failures.push(`the page asked for a URL that is not in the archive: ${orig} (answered ${r.status})`);
      continue;
    }
    if (r.status === 404 && status !== 404) {
      result.failures.push(`archived URL answered 404 during replay: ${orig} (archived with status ${status})`);
    }
    if (r.status === 0) {
      result.failures.push(`archived URL failed during replay: ${orig}: ${r.error}`);
    }
  }
  result.requests = responses.length;
  if (run.viewer === "amber" && offsite.length > 0) {
    result.failures.push(`requests left the replay server: ${[...new Set(offsite)].join(", ")}`);
  }
  result.offsite = [...new Set(offsite)];
  await context.close();
  return result;
}

const browser = await chromium.launch({
  executablePath: config.chromium || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let failed = false;
try {
  for (const run of config.runs) {
    const result = await check(browser, run);
    if (result.failures.length > 0) failed = true;
    process.stdout.write(JSON.stringify(result) + "\n");
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
