// Why a unit is red, on the desk (issue 20): a dispatcher opens a fire-safety unit's
// colour-code case and reads its score card — the score, its colour in Chinese, the
// bands, and each event with the points it took. Prints a JSON report;
// tests/unit/test_browser_score.py checks it.
import { chromium } from "playwright-core";

const { BASE, PASSWORD, CHROMIUM, SHOTS, DISPATCHER, CASE } = process.env;
const base = new URL(BASE);
const report = { errors: [], external: [], steps: [] };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN", serviceWorkers: "block" });
  const page = await context.newPage();
  page.on("request", (r) => {
    if (new URL(r.url()).host !== base.host) report.external.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  await page.goto(new URL("/desk", base).href);
  await page.waitForURL(/\/login\?next=/);
  await page.fill("input[name=username]", DISPATCHER);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(/\/desk$/);
  await page.waitForSelector("#tabs button");
  // the case opens from its link (as a notification's does)
  await page.goto(new URL("/desk#case=" + CASE, base).href);
  await page.waitForSelector("#detail .why .score li");
  report.score = await page.innerText("#detail .why .score");
  report.terms = await page.$$eval("#detail .why .score li", (ls) => ls.map((l) => l.textContent));
  report.why = await page.innerText("#detail .why");
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: SHOTS + "/desk-score-390.png" });
  report.steps.push("shot desk-score-390.png");
} catch (e) {
  report.errors.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
