// 响应标准 in the cockpit (issue 19 item 4), in a real browser at 1920×1080: the
// standards' figures follow the area on screen (the district, then 大关街道), read in
// Chinese, then in English after the 中/EN switch, and the strip stays one line.
// Prints a JSON report; tests/unit/test_browser_standards.py checks it.
import { chromium } from "playwright-core";

const { BASE, USERNAME, PASSWORD, SHOT, CHROMIUM, STREET } = process.env;
const report = { errors: [], external: [] };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

const figures = (page) => page.evaluate(() => ({
  title: document.getElementById("standards-title")?.innerText ?? null,
  figs: [...document.querySelectorAll("#standards .pfig")].map((d) => ({
    step: d.dataset.step, value: d.querySelector("b").textContent, label: d.querySelector(".label").innerText, hover: d.title,
  })),
  // the figures shown sit inside the strip, none cut or wrapped below; one that does
  // not fit is left out whole, and the heading's hover has every rate
  shown: [...document.querySelectorAll("#standards .pfig")].filter((d) => d.getBoundingClientRect().width > 0).length,
  headingHover: document.querySelector("#standards h2")?.title ?? null,
  lastInside: (() => {
    const last = document.querySelector("#participation .pmore").getBoundingClientRect();
    return last.right <= document.getElementById("participation").getBoundingClientRect().right + 1;
  })(),
  inside: [...document.querySelectorAll("#standards .pfig:not(.unfit)")].every((d) => {
    const r = d.getBoundingClientRect();
    const s = document.getElementById("participation").getBoundingClientRect();
    return r.right <= s.right + 1 && r.bottom <= s.bottom + 1 && r.width > 0;
  }),
}));
const valueOf = (page, step, v) => page.waitForFunction(
  ([s, v]) => document.querySelector(`#standards .pfig[data-step="${s}"] b`)?.textContent === v, [step, v],
);

try {
  const context = await browser.newContext({
    viewport: { width: 1920, height: 1080 }, locale: "zh-CN", timezoneId: "Asia/Shanghai",
  });
  const page = await context.newPage();
  const base = new URL(BASE);
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol !== "data:" && url.host !== base.host) report.external.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
  });
  await page.goto(new URL("/login?next=/cockpit", base).href);
  await page.fill("input[name=username]", USERNAME);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(/\/cockpit$/);
  await page.waitForFunction(() => document.querySelectorAll("#standards .pfig").length > 0);
  await valueOf(page, "take_call", "62.5%");
  report.period = await page.evaluate(() => [document.getElementById("period-first").value, document.getElementById("period-last").value]);
  report.district = await figures(page);
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: SHOT });

  await page.locator("#table td.name", { hasText: STREET }).first().click();
  await page.waitForFunction((s) => document.querySelector("#crumbs [aria-current]")?.textContent === s, STREET);
  await valueOf(page, "start", "33.3%");
  report.street = await figures(page);

  await page.click("#lang");
  await page.waitForFunction(() => document.getElementById("standards-title")?.innerText === "Response standards");
  await page.waitForFunction(() => /^135/.test(document.querySelector("#standards .pfig").title) === false && /met/.test(document.querySelector("#standards .pfig").title));
  report.english = await figures(page);
  await page.screenshot({ path: SHOT.replace(/\.png$/, "-en.png") });
  // a small screen in English: figures that do not fit are left out whole
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.waitForFunction(() => {
    const strip = document.getElementById("participation").getBoundingClientRect();
    return [...document.querySelectorAll("#standards .pfig:not(.unfit)")].every((d) => d.getBoundingClientRect().right <= strip.right + 1);
  });
  report.small = await figures(page);
  await page.screenshot({ path: SHOT.replace(/\.png$/, "-en-1280.png") });
} catch (e) {
  report.errors.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
