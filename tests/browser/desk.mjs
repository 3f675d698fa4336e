// The handler desk in a real browser, phone-sized: sign in, see my case, accept it,
// upload nothing, and never ask another host for anything. The server replays a day far
// from the browser's: the case's countdown must be the server's (static/common.js).
// Prints a JSON report; the pytest wrapper (tests/unit/test_browser.py) checks it and
// the database.
import { chromium } from "playwright-core";

const { BASE, USERNAME, PASSWORD, SHOT, CHROMIUM } = process.env;
const report = { external: [], errors: [], buttons: [], buttonsAccepted: [], cases: 0, title: null, accepted: false, due: null, mode: null, browserDue: null };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  const base = new URL(BASE);
  page.on("request", (r) => {
    if (new URL(r.url()).host !== base.host) report.external.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  // a Content-Security-Policy violation is an error too (the page would break quietly)
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
  });
  await page.goto(new URL("/desk", base).href);
  await page.waitForURL(/\/login\?next=/); // not signed in: sent to sign in, and back
  await page.fill("input[name=username]", USERNAME);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(/\/desk$/);
  await page.waitForSelector(".case");
  report.cases = await page.locator(".case").count();
  report.title = await page.locator(".case .title").first().textContent();
  report.due = await page.locator(".case .due").first().textContent();
  report.mode = await page.evaluate(() => window.cityeye.clock.mode());
  // what the phone's own clock would have said
  report.browserDue = await page.evaluate(() => {
    const minutes = Math.round((new Date(document.querySelector(".case").dataset.due) - Date.now()) / 60000);
    return minutes < 0 ? "overdue" : Math.round(minutes / 60) + "h";
  });
  await page.locator(".case").first().click();
  await page.waitForSelector("#detail .move button");
  const buttons = () => page.$$eval("#detail .move button[data-action]", (bs) => bs.map((b) => b.dataset.action));
  report.buttons = await buttons();
  report.state = await page.$eval("#detail", (d) => d.dataset.state);
  // the timeline: each line named (GET /api/v1/meta), each time the district's
  report.timeline = await page.$$eval("#detail .timeline li", (lis) => lis.map((li) => ({ time: li.querySelector("time").textContent, line: li.querySelector("span").textContent })));
  report.who = await page.locator("#who").textContent();
  await page.click("text=受理");
  await page.waitForSelector("#detail .meta >> text=已受理");
  report.accepted = true;
  report.buttonsAccepted = await buttons();
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: SHOT, fullPage: true });
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
