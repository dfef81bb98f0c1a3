// Opens a page that scripts assemble (scriptbuilt_test.go writes it) in
// headless Chromium and reports what a reader sees. Run by
// scriptbuilt_test.go:
//
//   node scriptbuilt.mjs CONFIG.json
//
// CONFIG is {"chromium": "...", "timeoutMs": 30000, "runs": [{"name":
// "live", "url": "http://127.0.0.1:N/news/story.html"}, {"name": "amber",
// "url": "http://127.0.0.1:M/TS/http://...", "framed": true}, {"name":
// "replaywebpage", "url": "http://127.0.0.1:V/wacz.html", "framed": true,
// "frame": "mp_/http://..."}]}. For each run it prints one JSON line: the
// texts the scripts wrote (data-amber attributes of the page and its
// frame), every image of the page and its frames with naturalWidth (after
// scrolling to the bottom, for the lazy image), the font's status, the
// audio element's seek, and every response (URL, status) and failed
// request the page made.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const timeout = config.timeoutMs || 30000;

async function contentFrame(page, run) {
  if (!run.framed) return page.mainFrame();
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    // amber replay's frame is a child of its top window; ReplayWeb.page's
    // is nested deeper, in the viewer's own frame: run.frame names its
    // archival URL's end ("mp_/" + the article's URL).
    const f = run.frame
      ? page.frames().find((f) => f.url().includes(run.frame))
      : page.frames().find((f) => f !== page.mainFrame() && f.parentFrame() === page.mainFrame());
    if (f && /mp_\//.test(f.url())) return f;
    await page.waitForTimeout(100);
  }
  throw new Error("no frame holds the page: " + page.frames().map((f) => f.url()).join(", "));
}

async function check(browser, run) {
  const result = { name: run.name, responses: [], failed: [], consoleErrors: [] };
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  page.on("response", (r) => result.responses.push({ url: r.url(), status: r.status() }));
  page.on("requestfailed", (r) => result.failed.push({ url: r.url(), error: r.failure()?.errorText }));
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text().slice(0, 300)); });
  page.on("pageerror", (e) => result.consoleErrors.push("pageerror: " + String(e).slice(0, 300)));
  try {
    await page.goto(run.url, { timeout });
    const frame = await contentFrame(page, run);
    result.frameURL = frame.url();
    // The scripts say when they are done (or what failed).
    await frame.waitForFunction(() => document.body && document.body.dataset.amberDone, null, { timeout });
    const embed = frame.childFrames()[0];
    if (embed) await embed.waitForFunction(() => document.body && document.body.dataset.amberDone, null, { timeout }).catch(() => {});
    // Scroll to the bottom, as a reader would, for the lazy image below
    // the fold, and let it load or fail.
    await frame.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await frame.waitForFunction(() => { const l = document.getElementById("lazy"); return !l || (l.getAttribute("src") && l.complete); }, null, { timeout }).catch(() => {});
    for (const f of [frame, ...frame.childFrames()]) {
      await f.waitForFunction(() => Array.from(document.images).every((i) => i.complete), null, { timeout }).catch(() => {});
    }
    result.page = await frame.evaluate(() => {
      const texts = {};
      for (const el of document.querySelectorAll("[data-amber]")) texts[el.dataset.amber] = el.textContent.trim();
      const bg = document.getElementById("bg");
      return {
        texts,
        done: document.body.dataset.amberDone,
        font: document.body.dataset.amberFont || "",
        fontCheck: document.fonts.check("16px StoryFont"),
        background: bg ? getComputedStyle(bg).backgroundImage : "",
      };
    });
    result.images = [];
    for (const f of [frame, ...frame.childFrames()]) {
      const imgs = await f.evaluate(() => Array.from(document.images).map((i) => ({ id: i.id, src: i.currentSrc || i.src, naturalWidth: i.naturalWidth })));
      for (const i of imgs) result.images.push({ frame: f.url(), ...i });
    }
    result.embed = embed ? await embed.evaluate(() => ({ url: location.href, done: document.body.dataset.amberDone || "", text: document.body.innerText.trim() })) : null;
    // The audio the script added: seek into the middle, and say what the
    // element reports.
    result.audio = await frame.evaluate(async () => {
      const a = document.getElementById("audio");
      if (!a) return { error: "no audio element" };
      // (A guard against a hang, not a timed assertion: a late event is
      // reported as missing.)
      const guard = (ms) => new Promise((r) => setTimeout(() => r(false), ms));
      if (a.readyState < 1) await Promise.race([guard(20000), new Promise((r) => { a.addEventListener("loadedmetadata", r, { once: true }); a.addEventListener("error", r, { once: true }); })]);
      if (a.error) return { error: "media error " + a.error.code + " " + a.error.message };
      if (a.readyState < 1) return { error: "no metadata" };
      const target = a.duration / 2;
      const seeked = new Promise((r) => a.addEventListener("seeked", () => r(true), { once: true }));
      a.currentTime = target;
      if (!(await Promise.race([seeked, guard(20000)]))) return { error: "never seeked", currentTime: a.currentTime };
      return { duration: a.duration, target, currentTime: a.currentTime, seekable: a.seekable.length > 0 ? a.seekable.end(0) : 0 };
    });
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
  for (const run of config.runs) process.stdout.write(JSON.stringify(await check(browser, run)) + "\n");
} finally {
  await browser.close();
}
