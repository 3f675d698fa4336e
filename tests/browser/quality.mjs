// 误报率 in the cockpit (issue 20, alarm quality): the panel's per-scenario false
// shares and its noisiest devices, at 1920×1080 in Chinese then English, and on a
// phone (390×844) where nothing is wider than the screen. Names only: no device id,
// scenario id or area code on the page. Prints a JSON report;
// tests/unit/test_browser_quality.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, USERNAME, PASSWORD, SHOTS, CHROMIUM, HIDDEN } = process.env;
const report = { errors: [], external: [] };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

const panel = (page, hidden) => page.evaluate((hidden) => {
  const p = document.getElementById("quality");
  const r = p.getBoundingClientRect();
  const rows = (id) => [...document.querySelectorAll(`#${id} li.qrow`)].map((li) => ({
    name: li.querySelector(".qname").innerText,
    value: li.querySelector("b").innerText,
    n: li.querySelector(".qn")?.innerText ?? null,
    badge: li.querySelector(".badge")?.innerText ?? null,
    hover: li.title,
  }));
  const text = p.innerText;
  return {
    title: document.getElementById("quality-title").innerText,
    scenarios: rows("quality-scenarios"),
    devices: rows("quality-devices"),
    lifts: rows("quality-lifts"),
    leaks: hidden.split(",").filter((s) => text.includes(s)),
    box: { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height },
    viewport: [innerWidth, innerHeight],
    pageWidth: document.scrollingElement.scrollWidth,
  };
}, hidden);

try {
  const base = new URL(BASE);
  const { person, signIn } = people(browser, base, report);
  const page = await person({ width: 1920, height: 1080 }, { timezoneId: "Asia/Shanghai" });
  await signIn(page, USERNAME, PASSWORD, "/cockpit");
  await page.waitForFunction(() => document.querySelectorAll("#quality-devices li.qrow").length > 0 && document.querySelectorAll("#quality-lifts li.qrow").length > 0);
  await page.evaluate(() => document.fonts.ready);
  report.big = await panel(page, HIDDEN);
  await page.screenshot({ path: SHOTS + "/cockpit-quality-1920.png" });

  await page.click("#lang");
  await page.waitForFunction(() => document.getElementById("quality-title").innerText === "False alarms");
  report.english = await panel(page, HIDDEN);
  await page.screenshot({ path: SHOTS + "/cockpit-quality-1920-en.png" });

  const phone = await person({ width: 390, height: 844 }, { timezoneId: "Asia/Shanghai", isMobile: true, hasTouch: true });
  await signIn(phone, USERNAME, PASSWORD, "/cockpit");
  await phone.waitForFunction(() => document.querySelectorAll("#quality-devices li.qrow").length > 0);
  await phone.locator("#quality").scrollIntoViewIfNeeded();
  report.phone = await panel(phone, HIDDEN);
  await phone.locator("#quality").screenshot({ path: SHOTS + "/cockpit-quality-390.png" });
} catch (e) {
  report.errors.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
