// 企业走访 on a 390×844 phone (issue 21 item 2): the 包联干部 signs in, sees their
// enterprise with its open warning and the data behind it, is refused a visit without
// the person met (the reason next to the field), then records one with a photo, a
// check-in and the warning's outcome; the visit is listed with its distance. A street
// dispatcher's view at 1920×1080. Also an accessibility scan (axe-core, serious and
// critical) and the Latin words the Chinese page shows.
// tests/unit/test_browser_visits.py checks what it saw and what was stored.
// Prints a JSON report on its last line.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, CHROMIUM, SHOTS, STAFF, DISPATCHER, PHOTO, LAT, LON } = process.env;
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const report = { errors: [], external: [], latin: [], violations: [], steps: [], list: [], evidence: "", refused: "", saved: "", visits: [], fits: null, desk: [], english: [] };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const { person, signIn } = people(browser, base, report);

try {
  const page = await person({ width: 390, height: 844 }, {
    bypassCSP: true, hasTouch: true, isMobile: true,
    geolocation: { latitude: Number(LAT), longitude: Number(LON), accuracy: 20 }, permissions: ["geolocation"],
  });
  await signIn(page, STAFF, PASSWORD, "/visits");
  await page.waitForSelector("#enterprises li");
  await page.evaluate(() => document.fonts.ready);
  report.list = await page.$$eval("#enterprises li", (els) => els.map((e) => e.innerText.replace(/\s+/g, " ").trim()));
  report.fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await page.screenshot({ path: SHOTS + "/visits-phone-list.png", fullPage: true });
  report.steps.push("listed");
  await page.locator("#enterprises button").first().tap();
  await page.waitForSelector("#one:not([hidden]) .warning-card");
  report.evidence = await page.innerText("#one-warnings");
  report.latin = await page.evaluate(() => [...new Set(document.body.innerText.match(/[A-Za-z_]{4,}/g) || [])]);
  await page.evaluate(AXE);
  const axe = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  report.violations = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
  report.steps.push("opened");
  // without the person met: refused, the reason next to the field
  await page.fill("#visit textarea[name=situation]", "生产经营正常");
  await page.click("#visit button[type=submit]");
  await page.waitForSelector('#visit .error[data-for="people_met"]:not([hidden])');
  report.refused = await page.innerText('#visit .error[data-for="people_met"]');
  report.steps.push("refused");
  await page.fill("#visit input[name=people_met]", "李经理");
  await page.fill("#visit textarea[name=situation]", "企业已搬至余杭区，注册地同步迁出");
  await page.fill("#visit textarea[name=problems]", "希望协助办理税务迁移");
  await page.setInputFiles("#visit input[name=photo]", PHOTO);
  await page.click("[data-action=locate]");
  await page.waitForFunction(() => document.getElementById("located").textContent.includes("已打卡"));
  const alert = await page.$eval("#visit select[name=alert_id] option:nth-child(2)", (o) => o.value);
  await page.selectOption("#visit select[name=alert_id]", alert);
  await page.selectOption("#visit select[name=outcome]", "relocated");
  await page.screenshot({ path: SHOTS + "/visits-phone-form.png", fullPage: true });
  await page.click("#visit button[type=submit]");
  await page.waitForSelector("#saved:not([hidden])");
  report.saved = await page.innerText("#saved");
  report.visits = await page.$$eval("#one-visits li", (els) => els.map((e) => e.innerText.replace(/\s+/g, " ").trim()));
  report.steps.push("saved");
  await page.screenshot({ path: SHOTS + "/visits-phone-saved.png", fullPage: true });
  // the street's dispatcher on a desktop
  const desk = await person({ width: 1920, height: 1080 });
  await signIn(desk, DISPATCHER, PASSWORD, "/visits");
  await desk.waitForSelector("#enterprises li");
  report.desk = await desk.$$eval("#enterprises li", (els) => els.map((e) => e.innerText.replace(/\s+/g, " ").trim()));
  await desk.screenshot({ path: SHOTS + "/visits-desktop.png" });
  // in English: the page's own words and what the script writes both switch
  await desk.click("[data-lang-toggle]");
  await desk.waitForFunction(() => document.documentElement.lang === "en");
  report.english = [await desk.innerText("#list-title"), await desk.innerText("#enterprises li")];
  report.steps.push("desktop");
} catch (e) {
  report.errors.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
