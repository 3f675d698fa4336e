// Why a unit is red, on the desk and the cockpit (issue 20): a dispatcher opens a
// fire-safety unit's colour-code case and reads its score card — the score, its colour
// in Chinese, the bands, and each event with the points it took; a leader reads the
// same on the cockpit's case card. Prints a JSON report;
// tests/unit/test_browser_score.py checks it.
import { chromium } from "playwright-core";

const { BASE, PASSWORD, CHROMIUM, SHOTS, DISPATCHER, LEADER, CASE } = process.env;
const base = new URL(BASE);
const report = { errors: [], external: [], steps: [] };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

async function signIn(viewport, path, username) {
  const context = await browser.newContext({ viewport, locale: "zh-CN", serviceWorkers: "block" });
  const page = await context.newPage();
  page.on("request", (r) => {
    if (new URL(r.url()).host !== base.host) report.external.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  await page.goto(new URL(path, base).href);
  await page.waitForURL(/\/login\?next=/);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(new RegExp(path + "$"));
  return page;
}

try {
  const page = await signIn({ width: 390, height: 844 }, "/desk", DISPATCHER);
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

  // the leader: the cockpit's case card, from the open cases
  const cockpit = await signIn({ width: 1920, height: 1080 }, "/cockpit", LEADER);
  await cockpit.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="open"] b')?.textContent || ""));
  await cockpit.click('.tile[data-kpi="open"]');
  await cockpit.click(`#cases-list li.case[data-id="${CASE}"]`);
  await cockpit.waitForSelector("#case-detail:not([hidden]) .score li");
  report.cardScore = await cockpit.innerText("#case-detail:not([hidden]) .score");
} catch (e) {
  report.errors.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
