// One live clock in a real browser set to New York time, on a server whose demo replay
// (23 November 2026 in Hangzhou) has ended: the cockpit's badge says so, with the
// server's time in the district's timezone, and the period ends on the server's day;
// the portal shows a report's time as the district reads it. Prints a JSON report;
// tests/unit/test_browser.py checks it.
import { chromium } from "playwright-core";

const { BASE, USERNAME, PASSWORD, CHROMIUM } = process.env;
const report = { errors: [], badge: null, period: null, tracking: null, reported: null };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({
    viewport: { width: 1920, height: 1080 }, locale: "zh-CN", timezoneId: "America/New_York",
  });
  const watch = (page) => {
    page.on("pageerror", (e) => report.errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
    });
  };
  const page = await context.newPage();
  watch(page);
  await page.goto(new URL("/login?next=/cockpit", BASE).href);
  await page.fill("input[name=username]", USERNAME);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(/\/cockpit$/);
  await page.waitForSelector('#live.on[data-mode="replay_ended"]');
  report.badge = await page.locator("#live").textContent();
  await page.waitForFunction(() => document.querySelector("#period").textContent.includes("—"));
  report.period = await page.locator("#period").textContent();

  // a resident reports after the replay: the number and the time are the district's
  const made = await fetch(new URL("/api/v1/portal/reports", BASE), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ category: "road", text: "井盖缺失", lat: 30.305, lon: 120.105 }),
  });
  report.tracking = (await made.json()).tracking;
  const portal = await context.newPage();
  watch(portal);
  await portal.goto(new URL("/portal#track=" + report.tracking, BASE).href);
  await portal.waitForSelector("#status .timeline time");
  report.reported = await portal.locator("#status .timeline time").first().textContent();
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
