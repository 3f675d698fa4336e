// The API explorer (/docs) on a machine with no Chinese font (issue 18): every text
// with Chinese in it, the title and an operation's description opened, is set in a
// family that ends in the packaged cityeye-sans, and that font's faces for its
// characters are loaded (the glyphs come from the package, not the machine).
// Prints a JSON report; tests/unit/test_browser_docs.py checks it.
import { chromium } from "playwright-core";

const { BASE, CHROMIUM, SHOTS } = process.env;
const report = { errors: [], chinese: [], bare: [], unloaded: [] };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" })).newPage();
  page.on("pageerror", (e) => report.errors.push(e.message));
  await page.goto(new URL("/docs#/district/kpis_api_v1_kpis_get", BASE).href);
  await page.waitForSelector("#operations-district-kpis_api_v1_kpis_get .renderedMarkdown");
  await page.evaluate(() => document.fonts.ready);
  Object.assign(report, await page.evaluate(async () => {
    const han = /[\u4e00-\u9fff]/;
    const out = { chinese: [], bare: [], unloaded: [] };
    for (const e of document.querySelectorAll(".swagger-ui *")) {
      const own = [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("");
      if (!han.test(own)) continue;
      const style = getComputedStyle(e);
      out.chinese.push(own.trim().slice(0, 30));
      if (!style.fontFamily.includes("cityeye-sans")) out.bare.push([e.className, style.fontFamily]);
      await document.fonts.load("16px cityeye-sans", own);
      if (!document.fonts.check("16px cityeye-sans", own)) out.unloaded.push(own.trim().slice(0, 30));
    }
    return out;
  }));
  await page.locator("#operations-district-kpis_api_v1_kpis_get").screenshot({ path: SHOTS + "/docs-operation.png" });
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
