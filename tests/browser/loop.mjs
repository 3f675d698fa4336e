// The whole closed loop in real browsers, one person a browser context:
//   a resident reports on the portal (no account: category, words, photo, map pin) →
//   the dispatcher of that community dispatches it at the desk → the handler accepts
//   it, then marks it handled with a photo → the dispatcher verifies and closes it →
//   the resident rates it on the portal → the leader's cockpit tile 满意率 changes.
// Also: the admin signs in; a resident who signs in finds their report on another
// phone; and no page asks any other host for anything.
// Prints a JSON report on its last line; tests/unit/test_browser_loop.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, SHOTS, CHROMIUM, DISPATCHER, HANDLER, LEADER, ADMIN, RESIDENT, AREA } = process.env;
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAGUlEQVR4nGM8UaHBQApgIkn1qIZRDUNKAwCAnAGIOXIt/QAAAABJRU5ErkJggg==",
  "base64",
);
const report = { external: [], errors: [], steps: [], tracking: null, before: null, after: null };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

const kit = people(browser, base, report);
const person = kit.person;
const signIn = (page, where, username) => kit.signIn(page, username, PASSWORD, where);

async function move(page, label, note) {
  if (note) await page.fill("#detail form.move textarea[name=note]", note);
  await page.click(`#detail form.move button:text-is("${label}")`);
}

function phone() {
  return { width: 390, height: 844 };
}

try {
  // the leader's cockpit first, to see the tile before
  const leader = await person({ width: 1920, height: 1080 });
  await signIn(leader, "/cockpit", LEADER);
  const tile = leader.locator("button.tile[data-kpi=satisfaction] b");
  await tile.waitFor();
  await leader.waitForFunction(() => {
    const b = document.querySelector("button.tile[data-kpi=satisfaction] b");
    return b && b.textContent.trim() !== "" && b.textContent.trim() !== "…";
  });
  report.before = (await tile.textContent()).trim();
  report.steps.push("cockpit");

  // 1. the resident reports, without an account
  const resident = await person(phone());
  await resident.goto(new URL("/portal", base).href);
  await resident.waitForSelector("select[name=category] option[value=road]", { state: "attached" });
  await resident.selectOption("select[name=category]", "road");
  await resident.fill("textarea[name=text]", "3 号楼楼道灯不亮，晚上很黑");
  await resident.setInputFiles("input[name=photo]", { name: "lamp.png", mimeType: "image/png", buffer: PNG });
  await resident.locator(`path.area-${AREA}`).click();
  await resident.waitForSelector("#pin-text >> text=已选位置");
  // the glyphs the new line needs, in both weights, before the picture is taken (a
  // font slice is fetched only once some text asks for it)
  await resident.evaluate(async () => {
    const words = document.body.innerText;
    await Promise.all(["400", "700"].map((w) => document.fonts.load(`${w} 16px cityeye-sans`, words)));
    await document.fonts.ready;
  });
  if (SHOTS) await resident.screenshot({ path: SHOTS + "/portal.png", fullPage: true });
  await resident.click("#report-form button[type=submit]");
  await resident.waitForSelector("#receipt:not([hidden])");
  report.tracking = (await resident.textContent("#receipt-tracking")).trim();
  report.followKeyShown = (await resident.textContent("#receipt-key")).trim().length >= 20;
  // the key is long and shown once: one tap copies the number and the key
  await resident.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base.origin });
  await resident.click("#receipt-copy");
  await resident.waitForSelector("#receipt-copied:not([hidden])");
  report.copied = await resident.evaluate(() => navigator.clipboard.readText());
  // and a QR code of the follow link: another phone that opens it follows the report
  report.qr = await resident.getAttribute("#receipt-qr", "src");
  const link = await resident.getAttribute("#receipt-qr", "data-link");
  const other = await person(phone());
  await other.goto(link);
  await other.waitForSelector(`#status h2 >> text=${report.tracking}`);
  report.keptByScan = await other.evaluate((t) => JSON.parse(localStorage.getItem("cityeye.portal.reports") || "[]").some((r) => r.tracking === t && r.key), report.tracking);
  report.steps.push("reported");

  // 2. the dispatcher of that community sends it to the property company
  const dispatcher = await person(phone());
  await signIn(dispatcher, "/desk", DISPATCHER);
  await dispatcher.locator(".case", { hasText: "楼道灯" }).first().click();
  await dispatcher.waitForSelector("#detail select[name=party]");
  await dispatcher.selectOption("#detail select[name=party]", process.env.PARTY);
  await move(dispatcher, "派遣", "请物业尽快修复");
  await dispatcher.waitForSelector("#detail .meta >> text=已派遣");
  report.steps.push("dispatched");

  // 3. the handler accepts, then marks it handled with a photo
  const handler = await person(phone());
  await signIn(handler, "/desk", HANDLER);
  await handler.locator(".case", { hasText: "楼道灯" }).first().click();
  await move(handler, "受理");
  await handler.waitForSelector("#detail .meta >> text=已受理");
  await handler.setInputFiles("#detail input[name=photo]", { name: "fixed.png", mimeType: "image/png", buffer: PNG });
  await move(handler, "处置完成", "已更换灯泡");
  await handler.waitForSelector("#detail .meta >> text=已处置");
  await handler.waitForSelector("#detail ol.timeline img.thumb");
  report.steps.push("handled");

  // 4. the dispatcher checks and closes it
  await dispatcher.goto(new URL("/desk", base).href); // the queue again (a reload would reopen the case in the address)
  await dispatcher.locator(".case", { hasText: "楼道灯" }).first().click();
  await move(dispatcher, "核查通过");
  await dispatcher.waitForSelector("#detail .meta >> text=已核查");
  await move(dispatcher, "结案");
  await dispatcher.waitForSelector("#detail .meta >> text=已结案");
  report.steps.push("closed");

  // back on the page, the resident is told their report's case moved on
  await resident.evaluate(() => window.dispatchEvent(new Event("focus")));
  await resident.waitForSelector(`#notices .notice[data-tracking="${report.tracking}"]`);
  report.notice = await resident.innerText(`#notices .notice[data-tracking="${report.tracking}"] button.link`);

  // 5. the resident follows it from "Mine" and rates it
  await resident.click("button[data-tab=mine]");
  await resident.locator(".report-row", { hasText: report.tracking }).click();
  await resident.waitForSelector("#status .state >> text=已办结");
  // the resident sees their own photo and the handler's "after" one (fetched with the key)
  const loaded = (side) => resident.waitForFunction(
    (s) => [...document.querySelectorAll(`#status .photo-list[data-side=${s}] img`)].some((i) => i.complete && i.naturalWidth > 0),
    side,
  );
  await loaded("before");
  await loaded("after");
  report.photosBothWays = true;
  await resident.click('#status .stars button[data-stars="5"]');
  await resident.fill("#status textarea[name=comment]", "修得很快，谢谢");
  await resident.click("#status form.rate button[type=submit]");
  await resident.waitForSelector("#status .rated");
  report.steps.push("rated");

  // 6. the cockpit's tile moves without a reload
  await leader.waitForFunction(
    (before) => document.querySelector("button.tile[data-kpi=satisfaction] b").textContent.trim() !== before,
    report.before,
    { timeout: 60000 },
  );
  report.after = (await tile.textContent()).trim();
  report.steps.push("cockpit moved");

  // the admin signs in too (every role has now used the product)
  const admin = await person({ width: 1280, height: 800 });
  await signIn(admin, "/desk", ADMIN);
  await admin.waitForSelector(".case, .empty");
  report.steps.push("admin");

  // a resident who signs in (optional) reports, and finds it on another phone
  const li = await person(phone());
  await li.goto(new URL("/login?next=/portal", base).href);
  await li.fill("input[name=username]", RESIDENT);
  await li.fill("input[name=password]", PASSWORD);
  await li.click("form#login button");
  await li.waitForURL(/\/portal$/);
  await li.waitForSelector("select[name=category] option[value=road]", { state: "attached" });
  await li.selectOption("select[name=category]", "road");
  await li.fill("textarea[name=text]", "小区门口路面塌陷");
  await li.locator(`path.area-${AREA}`).click();
  await li.click("#report-form button[type=submit]");
  await li.waitForSelector("#receipt:not([hidden])");
  report.signedInTracking = (await li.textContent("#receipt-tracking")).trim();
  const another = await person(phone()); // nothing on this phone: the account remembers
  await another.goto(new URL("/login?next=/portal", base).href);
  await another.fill("input[name=username]", RESIDENT);
  await another.fill("input[name=password]", PASSWORD);
  await another.click("form#login button");
  await another.waitForURL(/\/portal$/);
  await another.click("button[data-tab=mine]");
  await another.locator(".report-row", { hasText: report.signedInTracking }).waitFor();
  report.steps.push("resident signed in");
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
