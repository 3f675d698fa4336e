// 日提醒 on the desk (issue 19 item 3), in a real browser: the grid worker opens the
// desk after the morning's reminder was written (the routine runs whether anyone is
// looking or not), sees it once as a quiet banner (no chime), taps it and lands on the
// 超期 tab with the overdue case listed; opened again, the desk does not repeat it.
// Prints a JSON report; tests/unit/test_browser_reminder.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, USERNAME, PASSWORD, CHROMIUM, SHOTS } = process.env;
const report = { errors: [], external: [] };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const base = new URL(BASE);
const { person, signIn } = people(browser, base, report);

function countTones() {
  window.__tones = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones += 1;
    return start.apply(this, args);
  };
}

try {
  for (const [width, height] of [[390, 844], [1920, 1080]]) {
    const page = await person({ width, height });
    await page.addInitScript(countTones);
    await signIn(page, USERNAME, PASSWORD, "/desk");
    const banner = page.locator("#toasts .toast").first();
    await banner.waitFor({ timeout: 15000 });
    await page.screenshot({ path: `${SHOTS}/desk-reminder-${width}.png` });
    const shown = {
      text: await banner.innerText(),
      toasts: await page.locator("#toasts .toast").count(),
      tones: await page.evaluate(() => window.__tones),
    };
    await banner.locator("button.open").click();
    await page.waitForFunction(() => {
      const tab = document.querySelector('#tabs [aria-selected="true"]');
      return tab && tab.dataset.tab === "overdue" && document.querySelector("#list .case");
    }, null, { timeout: 10000 });
    shown.tab = await page.locator('#tabs [aria-selected="true"]').innerText();
    shown.cases = await page.locator("#list .case").allInnerTexts();
    shown.toastsAfter = await page.locator("#toasts .toast").count();
    // opened again on this device: the reminder was shown already
    await page.reload();
    await page.waitForSelector("#list .case");
    await page.waitForFunction(() => document.getElementById("live").dataset.mode === "live", null, { timeout: 10000 });
    shown.toastsOnReload = await page.locator("#toasts .toast").count();
    report[`w${width}`] = shown;
    await page.context().close();
  }
} catch (e) {
  report.errors.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
