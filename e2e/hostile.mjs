// Opens pages that try to leave the archive, in headless Chromium, and
// reports what they did. Run by hostile_test.go:
//
//   node hostile.mjs CONFIG.json
//
// CONFIG is {"chromium": "...", "settleMs": 1500, "timeoutMs": 20000,
// "pages": [{"name": "href", "url": "http://127.0.0.1:N/..."}, ...],
// "links": {"url": "...", "next": "other.html"}}  (links: optional)
//
// Each page logs "amber-attempted NAME" to the console once it has made
// its attempt; the script waits for that line (in any frame), lets the
// attempt run for settleMs, and prints one JSON line per page:
// {"name", "attempted", "console": [...], "popups": N, "topURL"}. The
// requests that count (to the live server, STUN packets) are counted by
// the Go test. With "links", it also clicks the links of an archived page
// inside its frame and prints {"name": "links", ...} with the top URL and
// banner after each click.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const timeout = config.timeoutMs || 20000;

async function attempt(browser, p) {
  const result = { name: p.name, attempted: false, console: [], popups: 0 };
  const context = await browser.newContext();
  const page = await context.newPage();
  context.on("page", () => result.popups++);
  let resolve;
  const attempted = new Promise((r) => (resolve = r));
  page.on("console", (msg) => {
    const text = msg.text();
    result.console.push(text.slice(0, 300));
    if (text === "amber-attempted " + p.name) resolve();
  });
  page.on("pageerror", (err) => result.console.push("pageerror: " + String(err).slice(0, 300)));
  try {
    await page.goto(p.url, { timeout });
    await Promise.race([attempted, page.waitForTimeout(timeout)]);
    result.attempted = result.console.includes("amber-attempted " + p.name);
    await page.waitForTimeout(config.settleMs || 1500);
    result.topURL = page.url();
  } catch (err) {
    result.error = String(err).split("\n")[0];
  }
  await context.close();
  return result;
}

async function links(browser, l) {
  const result = { name: "links", steps: [] };
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    // A link to a fragment of the page scrolls the frame; the top frame
    // follows (the address bar shows the fragment), and nothing reloads.
    await page.goto(l.url, { timeout });
    const links = page.frameLocator("#amber-replay-frame");
    await links.locator("h1", { hasText: "Links" }).waitFor({ timeout });
    await page.evaluate(() => (window.amberNotReloaded = true));
    await links.locator("#frag").click({ timeout });
    await page.waitForURL((u) => u.hash === "#end", { timeout: 5000 }).catch(() => {});
    await page.waitForLoadState("load");
    result.fragment = page.url();
    result.fragmentReloaded = !(await page.evaluate(() => window.amberNotReloaded === true));
    const inner = page.frames().find((f) => f !== page.mainFrame());
    result.frameHash = inner ? await inner.evaluate(() => location.hash) : "";
    for (const id of ["plain", "top"]) {
      await page.goto(l.url, { timeout });
      const frame = page.frameLocator("#amber-replay-frame");
      await frame.locator("#" + id).click({ timeout });
      await frame.locator("h1", { hasText: "Other page" }).waitFor({ timeout });
      await page.waitForURL((u) => u.href.endsWith("/" + l.next), { timeout }).catch(() => {});
      result.steps.push({
        link: id,
        topURL: page.url(),
        banner: await page.locator("#amber-replay-url").innerText({ timeout }),
        frames: page.frames().map((f) => f.url()),
      });
    }
  } catch (err) {
    result.error = String(err).split("\n")[0];
  }
  await context.close();
  return result;
}

const browser = await chromium.launch({
  executablePath: config.chromium || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  // All at once, each in a context of its own: the settling overlaps.
  const results = await Promise.all(config.pages.map((p) => attempt(browser, p)));
  for (const r of results) process.stdout.write(JSON.stringify(r) + "\n");
  if (config.links) process.stdout.write(JSON.stringify(await links(browser, config.links)) + "\n");
} finally {
  await browser.close();
}
