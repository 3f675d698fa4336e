// Issue 14's web findings in a real browser (tests/unit/test_attack_web.py):
// * REDIRECT: sign in at /login?next=… for each hostile `next` (a tab, newline or
//   carriage return that the URL parser drops, backslashes, javascript:, another host)
//   and record every page the browser then navigates to;
// * the pages that no other browser test opens (/, /docs, /login, /portal), for
//   Content-Security-Policy violations.
// Prints a JSON report; the pytest wrapper checks it.
import { chromium } from "playwright-core";

const { BASE, USERNAME, PASSWORD, CHROMIUM, NEXTS } = process.env;
const report = { base: BASE, errors: [], landed: {}, navigations: {}, pages: {} };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  const base = new URL(BASE);
  let navigations = [];
  page.on("request", (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigations.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
  });
  for (const next of JSON.parse(NEXTS)) {
    // the raw query as an attacker's link has it (already percent-encoded)
    await page.goto(new URL("/login?next=" + next, base).href);
    navigations = [];
    await page.fill("input[name=username]", USERNAME);
    await page.fill("input[name=password]", PASSWORD);
    await page.click("form#login button");
    await page.waitForURL((u) => u.pathname !== "/login", { timeout: 10000 }).catch(() => {});
    await page.waitForLoadState("load").catch(() => {});
    report.landed[next] = page.url();
    report.navigations[next] = navigations;
  }
  for (const path of ["/", "/docs", "/login", "/portal"]) {
    const before = report.errors.length;
    await page.goto(new URL(path, base).href);
    await page.waitForLoadState("networkidle");
    if (path === "/docs") await page.waitForSelector(".swagger-ui .info", { timeout: 10000 });
    report.pages[path] = report.errors.length - before;
  }
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
