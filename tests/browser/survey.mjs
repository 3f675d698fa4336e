// 社会评价 on a 390×844 phone (issue 19 item 6): a respondent opens a one-time link,
// rates one unit with a comment and skips the other, sends; the same link opened again
// says it was answered; an invited resident signs in and answers on /survey; a send
// whose answer is lost is sent again and counted once. Also an
// accessibility scan (axe-core, serious and critical) and the Latin words the Chinese
// page shows. tests/unit/test_browser_survey.py checks what it saw and the results.
// Prints a JSON report on its last line.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, CHROMIUM, SHOTS, TOKEN, TOKEN2, RESIDENT } = process.env;
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const report = { errors: [], external: [], latin: [], violations: [], units: [], fits: null, done: "", again: "", resident: "", english: "", lost: "", resent: "" };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const phone = { width: 390, height: 844 };
const { person: open, signIn } = people(browser, base, report);
// a phone with touch; the axe script is put in by the test, past the page's CSP
const person = () => open(phone, { bypassCSP: true, hasTouch: true, isMobile: true });

try {
  const page = await person();
  await page.goto(new URL("/survey/" + TOKEN, base).href);
  await page.waitForSelector("#units li");
  await page.evaluate(() => document.fonts.ready);
  report.units = await page.$$eval("#units .unit-name", (els) => els.map((e) => e.innerText));
  report.latin = await page.evaluate(() => [...new Set(document.body.innerText.match(/[A-Za-z_]{4,}/g) || [])]);
  report.fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await page.evaluate(AXE);
  const axe = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  report.violations = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
  await page.screenshot({ path: SHOTS + "/survey-phone.png", fullPage: true });
  // English: the question in English, then back
  await page.click("[data-lang-toggle]");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  report.english = await page.innerText("#survey-question");
  await page.click("[data-lang-toggle]");
  // 小河街道: four stars and a comment; 区城管局 skipped
  const first = page.locator("#units li").first();
  await first.locator(".stars button[data-stars='4']").tap();
  await first.locator("textarea").fill("垃圾分类做得好");
  await page.screenshot({ path: SHOTS + "/survey-phone-rated.png" });
  await page.click("#survey-form button[type=submit]");
  await page.waitForSelector("#done:not([hidden])");
  report.done = await page.innerText("#done-text");
  // the same link again: answered
  const again = await person();
  await again.goto(new URL("/survey/" + TOKEN, base).href);
  await again.waitForSelector("#done:not([hidden])");
  report.again = await again.innerText("#done-text");
  // an invited resident, signed in
  const resident = await person();
  await signIn(resident, RESIDENT, PASSWORD, "/survey");
  await resident.waitForSelector("#units li");
  await resident.locator("#units li").nth(1).locator(".stars button[data-stars='5']").tap();
  await resident.click("#survey-form button[type=submit]");
  await resident.waitForSelector("#done:not([hidden])");
  report.resident = await resident.innerText("#done-text");
  // a send whose answer is lost on the way back (the server counted it): the page keeps
  // the answers and says so; sent again, it is recorded once, not refused as used
  const lost = await person();
  await lost.goto(new URL("/survey/" + TOKEN2, base).href);
  await lost.waitForSelector("#units li");
  await lost.locator("#units li").nth(1).locator(".stars button[data-stars='3']").tap();
  await lost.route("**/api/v1/survey/responses", async (route) => {
    await route.fetch();
    await route.abort();
  }, { times: 1 });
  await lost.click("#survey-form button[type=submit]");
  await lost.waitForSelector("#survey-form .error:not([hidden])");
  report.lost = await lost.innerText("#survey-form .error");
  await lost.click("#survey-form button[type=submit]");
  await lost.waitForSelector("#done:not([hidden])");
  report.resent = await lost.innerText("#done-text");
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
