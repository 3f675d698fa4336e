// The desk as a work queue (issue 17's "Done when"), on a 390×844 phone: a dispatcher
// finds a case by typing part of its place, sends it to the party the picker proposes
// first (the grid worker); the grid worker opens it, sees the resident's photo, the
// place on a map and the time left, and hands it back handled with a photo; the
// dispatcher looks at that photo, verifies with a note and closes it. Then the same
// desk at 1920×1080: the queue and the case side by side. Screenshots in SHOTS.
// Prints a JSON report; tests/unit/test_browser_desk_work.py checks it and the database.
import { chromium } from "playwright-core";

const { BASE, PASSWORD, CHROMIUM, SHOTS, DISPATCHER, HANDLER, PLACE, CASE } = process.env;
const base = new URL(BASE);
const report = { errors: [], external: [], steps: [] };
const PNG = Buffer.from(process.env.FIXED_PNG, "base64");
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

async function person(viewport) {
  const context = await browser.newContext({ viewport, locale: "zh-CN", serviceWorkers: "block" });
  const page = await context.newPage();
  page.on("request", (r) => {
    if (new URL(r.url()).host !== base.host) report.external.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
  });
  return page;
}

async function signIn(page, username) {
  await page.goto(new URL("/desk", base).href);
  await page.waitForURL(/\/login\?next=/);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(/\/desk$/);
  await page.waitForSelector("#tabs button");
}

async function tabs(page) {
  return page.$$eval("#tabs button", (bs) => bs.map((b) => ({ key: b.dataset.tab, text: b.textContent, selected: b.getAttribute("aria-selected") === "true" })));
}

async function move(page, label, note) {
  if (note) await page.fill("#detail form.move textarea[name=note]", note);
  await page.click(`#detail form.move button:text-is("${label}")`);
}

async function photoShown(page, selector) {
  // a photo that loaded (the server sent an image), not a broken one
  await page.waitForFunction((s) => [...document.querySelectorAll(s)].some((i) => i.complete && i.naturalWidth > 0), selector);
  return page.$$eval(selector, (imgs) => imgs.filter((i) => i.naturalWidth > 0).length);
}

async function shot(page, name) {
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: SHOTS + "/" + name, fullPage: false });
  report.steps.push("shot " + name);
}

try {
  // 1. the dispatcher's queue: tabs with counts, a search by part of the address
  const dispatcher = await person({ width: 390, height: 844 });
  await signIn(dispatcher, DISPATCHER);
  report.dispatcherTabs = await tabs(dispatcher);
  await dispatcher.fill("#find input[name=q]", PLACE);
  await dispatcher.waitForFunction(
    (id) => {
      const cards = [...document.querySelectorAll("#list .case")];
      return cards.length === 1 && cards[0].dataset.case === id;
    },
    CASE,
    { timeout: 10000 },
  );
  report.found = await dispatcher.$$eval("#list .case", (cs) => cs.map((c) => ({ id: c.dataset.case, text: c.innerText })));
  await shot(dispatcher, "desk-queue-390.png");

  // 2. the case replaces the list; the picker proposes the grid worker first
  await dispatcher.click(`#list .case[data-case="${CASE}"]`);
  await dispatcher.waitForSelector("#detail select[name=party] option", { state: "attached" });
  report.listHiddenOnPhone = !(await dispatcher.isVisible("#queue"));
  report.picker = await dispatcher.$$eval("#detail select[name=party] option", (os) => os.slice(0, 4).map((o) => ({ value: o.value, text: o.textContent })));
  report.pickerFirstSelected = await dispatcher.$eval("#detail select[name=party]", (s) => s.selectedIndex === 0 && s.value);
  report.pickerWhy = await dispatcher.textContent("#detail .picker .why-party");
  report.dispatcherDetail = await dispatcher.innerText("#detail");
  await shot(dispatcher, "desk-case-390.png");
  await move(dispatcher, "派遣", "请网格员尽快到场");
  await dispatcher.waitForSelector("#detail .meta >> text=已派遣");
  report.steps.push("dispatched");
  // the browser's back goes back to the queue
  await dispatcher.goBack();
  await dispatcher.waitForSelector("#queue", { state: "visible" });
  report.backToList = !(await dispatcher.isVisible("#detail"));

  // 3. the grid worker: their own queue, the case with photo, map and time left
  const handler = await person({ width: 390, height: 844 });
  await signIn(handler, HANDLER);
  report.handlerTabs = await tabs(handler);
  await handler.click(`#list .case[data-case="${CASE}"]`);
  await handler.waitForSelector("#detail .move button");
  report.residentPhotos = await photoShown(handler, "#detail .photos img");
  report.mapShapes = await handler.$$eval("#detail .casemap path.leaflet-interactive", (ps) => ps.length);
  report.timeLeft = await handler.textContent("#detail .left");
  report.handlerDetail = await handler.innerText("#detail");
  report.timeline = await handler.$$eval("#detail .timeline li span", (ss) => ss.map((s) => s.textContent));
  await shot(handler, "desk-handler-390.png");
  await move(handler, "受理");
  await handler.waitForSelector("#detail .meta >> text=已受理");
  await handler.setInputFiles("#detail input[name=photo]", { name: "fixed.png", mimeType: "image/png", buffer: PNG });
  await move(handler, "处置完成", "坑已填平");
  await handler.waitForSelector("#detail .meta >> text=已处置");
  report.steps.push("handled");

  // 4. the dispatcher checks the photo, verifies with a note, closes
  await dispatcher.click('#tabs button[data-tab="to_verify"]');
  await dispatcher.fill("#find input[name=q]", "");
  await dispatcher.click(`#list .case[data-case="${CASE}"]`);
  await dispatcher.waitForSelector("#detail .check");
  report.checkPhotos = await photoShown(dispatcher, "#detail .check img");
  report.checkText = await dispatcher.innerText("#detail .check");
  await dispatcher.locator("#detail .check").scrollIntoViewIfNeeded();
  await shot(dispatcher, "desk-verify-390.png");
  await move(dispatcher, "核查通过", "现场已复核，路面平整");
  await dispatcher.waitForSelector("#detail .meta >> text=已核查");
  await move(dispatcher, "结案");
  await dispatcher.waitForSelector("#detail .meta >> text=已结案");
  report.steps.push("closed");

  // 5. a desktop: the queue on the left, the case on the right
  const desk = await person({ width: 1920, height: 1080 });
  await signIn(desk, DISPATCHER);
  await desk.click('#tabs button[data-tab="closed"]');
  await desk.click(`#list .case[data-case="${CASE}"]`);
  await desk.waitForSelector("#detail .timeline li");
  const q = await desk.locator("#queue").boundingBox();
  const d = await desk.locator("#detail").boundingBox();
  report.desktop = { queue: q, detail: d, sideBySide: d.x >= q.x + q.width && Math.abs(d.y - q.y) < 200 };
  await shot(desk, "desk-1920.png");
  await desk.setViewportSize({ width: 3840, height: 2160 });
  await shot(desk, "desk-3840.png");
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
