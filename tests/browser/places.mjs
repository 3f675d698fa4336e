// Places, not coordinates (issue 17), on a phone (390×844): a resident drops a pin and
// sees "<community> · <building>" before sending, then sends; finds a school by name
// and the pin moves there; a pin outside the district says so in words, no field name.
// Also screenshots of the portal at 1920×1080 and 3840×2160 with search results.
// Prints a JSON report on its last line; tests/unit/test_browser_places.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, SHOTS, CHROMIUM } = process.env;
const report = { external: [], errors: [], steps: [] };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

const { person } = people(browser, base, report);

async function open(page) {
  await page.goto(new URL("/portal", base).href);
  await page.waitForSelector("select[name=category] option[value=road]", { state: "attached" });
  await page.waitForSelector("path.area-G0001");
}

// what the resident reads: the chosen language only (common.js lang, base.css)
const pinText = (page) => page.innerText("#pin-text");

try {
  const phone = await person({ width: 390, height: 844 });
  await open(phone);

  // 1. a pin dropped in the middle of 长征桥社区's first grid, where 长征桥新村3幢 stands
  await phone.selectOption("select[name=category]", "road");
  await phone.fill("textarea[name=text]", "楼下路灯不亮");
  await phone.locator("path.area-G0001").click();
  await phone.waitForFunction(() => document.getElementById("pin-text").innerText.includes("·"));
  report.pinLabel = await pinText(phone);
  report.address = await phone.inputValue("input[name=address]");
  await phone.evaluate(() => document.fonts.ready);
  if (SHOTS) {
    await phone.locator("fieldset").scrollIntoViewIfNeeded();
    await phone.screenshot({ path: SHOTS + "/portal-place.png" });
  }
  report.steps.push("pin named");
  await phone.click("#report-form button[type=submit]");
  await phone.waitForSelector("#receipt:not([hidden])");
  report.tracking = (await phone.textContent("#receipt-tracking")).trim();
  report.steps.push("sent");

  // 2. another report: the school found by name, the pin moved there
  await phone.click("#receipt-again");
  report.afterSend = await pinText(phone);
  await phone.fill("#place-q", "小学");
  await phone.press("#place-q", "Enter");
  await phone.waitForSelector("#place-results button");
  report.results = await phone.locator("#place-results button").allTextContents();
  if (SHOTS) await phone.screenshot({ path: SHOTS + "/portal-search.png" });
  await phone.locator("#place-results button").first().click();
  await phone.waitForFunction(() => document.getElementById("pin-text").innerText.includes("小学"));
  report.searchLabel = await pinText(phone);
  report.searchAddress = await phone.inputValue("input[name=address]");
  report.steps.push("found by name");

  // 3. a resident's own words in the address box stay when the pin moves
  await phone.fill("input[name=address]", "小河路小学东门");
  const map = await phone.locator("#map").boundingBox();
  const answered = phone.waitForResponse((r) => r.url().includes("/api/v1/places/reverse"));
  await phone.mouse.click(map.x + map.width / 2 + 20, map.y + map.height / 2);
  await answered;
  await phone.waitForFunction(() => document.getElementById("pin-text").innerText.includes("·"));
  report.ownAddress = await phone.inputValue("input[name=address]");

  // 4. a pin beside the district: a fresh page shows the whole district, with room
  // west of it on a phone's wide map
  const fresh = await person({ width: 390, height: 844 });
  await open(fresh);
  const box = await fresh.locator("#map").boundingBox();
  const outside = fresh.waitForResponse((r) => r.url().includes("/api/v1/places/reverse"));
  await fresh.mouse.click(box.x + 4, box.y + box.height / 2);
  await outside;
  await fresh.waitForSelector("#pin-text.outside");
  report.outside = (await pinText(fresh)).trim();
  report.outsideSend = null;
  await fresh.selectOption("select[name=category]", "road");
  await fresh.click("#report-form button[type=submit]"); // no pin and no address: not sent
  report.outsideSend = (await fresh.textContent("#report-form .error")).trim();
  if (SHOTS) {
    await fresh.locator("fieldset").scrollIntoViewIfNeeded();
    await fresh.screenshot({ path: SHOTS + "/portal-outside.png" });
  }
  report.steps.push("outside refused");

  // the same page on big screens, with search results open
  for (const [name, viewport] of [["1920", { width: 1920, height: 1080 }], ["3840", { width: 3840, height: 2160 }]]) {
    const big = await person(viewport);
    if (name === "1920") await big.addInitScript(() => localStorage.setItem("cityeye.lang", "en"));
    await open(big);
    await big.fill("#place-q", "长征桥");
    await big.press("#place-q", "Enter");
    await big.waitForSelector("#place-results button");
    await big.locator("#place-results button").first().click();
    await big.waitForFunction(() => document.getElementById("pin-text").innerText.includes("·"));
    report[`pin${name}`] = await pinText(big);
    await big.fill("#place-q", "长征桥");
    await big.press("#place-q", "Enter");
    await big.waitForSelector("#place-results:not([hidden]) button");
    await big.evaluate(() => document.fonts.ready);
    if (SHOTS) await big.screenshot({ path: `${SHOTS}/portal-places-${name}.png` });
  }
  report.steps.push("big screens");
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
