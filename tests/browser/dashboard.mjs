// The dashboard in a real browser: Debian's chromium driven by
// playwright-core. Called by tests/integration/test_dashboard_browser.py
// with a JSON of: {url (served page) or file (written page), expected:
// {command: {count, failureRate}}, xss, filterCommand, screenshot}.
// Prints "ok" or throws.
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const args = JSON.parse(process.argv[2]);
const require = createRequire(path.join(args.modules, "x.js"));
const { chromium } = require("playwright-core");

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "nattel-chromium-"));
// A fresh profile (--user-data-dir, given the way playwright takes it).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = browser.pages()[0] || await browser.newPage();
  const start = args.url || "file://" + args.file;
  const outside = [], dialogs = [], errors = [];
  // Every request is looked at: only the endpoint (127.0.0.1) or the file
  // itself may be asked for; anything else is recorded and refused.
  await page.route("**/*", (route) => {
    const u = new URL(route.request().url());
    const local = u.protocol === "file:" ? !!args.file
      : u.protocol === "http:" && u.hostname === "127.0.0.1";
    if (!local) { outside.push(u.href); return route.abort(); }
    return route.continue();
  });
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));

  await page.goto(start);
  // Charts drawn: one svg per section at least.
  const svgs = await page.locator("section .chart svg").count();
  check(svgs >= 7, "charts drawn: " + svgs);

  async function commandRows() {
    return page.$$eval("#t-commands tbody tr", (trs) => trs.map((tr) =>
      Array.from(tr.cells).map((c) => c.textContent)));
  }
  // Counts and failure rates in the table equal the store's.
  const rows = await commandRows();
  const want = args.expected;
  check(rows.length === Object.keys(want).length,
        "commands shown: " + JSON.stringify(rows));
  for (const r of rows) {
    const w = want[r[0]];
    check(w, "unexpected command " + r[0]);
    check(Number(r[1]) === w.count, r[0] + " count " + r[1] + " != " + w.count);
    check(r[5] === (100 * w.failureRate).toFixed(1) + "%",
          r[0] + " failure rate " + r[5] + " != " + w.failureRate);
  }
  // The stored <script> command is shown as text.
  const shown = await page.locator("#t-commands").textContent();
  check(shown.includes(args.xss), "the <script> command is not shown as text");
  check(await page.locator("section script").count() === 0, "a script in a section");
  if (args.screenshot)
    await page.screenshot({ path: args.screenshot, fullPage: true });

  // The command filter: through the form, kept in the URL.
  await page.fill("input[name=command]", args.filterCommand);
  await page.fill("input[name=from]", args.filterFrom);
  await Promise.all([page.waitForNavigation(), page.click("#filter button")]);
  const u = new URL(page.url());
  check(u.searchParams.get("command") === args.filterCommand,
        "the URL lost the command filter: " + page.url());
  check(u.searchParams.get("from") === args.filterFrom,
        "the URL lost the from filter: " + page.url());
  const filtered = await commandRows();
  check(filtered.length === 1 && filtered[0][0] === args.filterCommand,
        "the filter did not narrow the table: " + JSON.stringify(filtered));
  const series = await page.$$eval("#t-series tbody tr", (trs) =>
    trs.map((tr) => tr.cells[0].textContent));
  check(series.length > 0 && series.every((b) => b >= args.filterFrom.slice(0, b.length)),
        "the time filter did not narrow events over time: " + series);
  // The filter survives a reload (it is in the URL only).
  await page.reload();
  check((await commandRows()).length === 1, "a reload lost the filter");
  check(await page.inputValue("input[name=command]") === args.filterCommand,
        "the form does not show the URL's filter");
  // Same with the <script> command as the filter: text, never run.
  const q = new URLSearchParams({ command: args.xss });
  await page.goto(start + "?" + q.toString());
  check((await commandRows()).length === 1, "the <script> command cannot be filtered");

  check(outside.length === 0, "requests left 127.0.0.1: " + outside.join(" "));
  check(dialogs.length === 0, "a dialog opened: " + dialogs.join(" "));
  check(errors.length === 0, "console errors: " + errors.join(" | "));
  console.log("ok");
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
