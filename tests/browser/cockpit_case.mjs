// A case's detail for a leader (issue 18, item 2), at 1920×1080: the street's leader
// opens a case from the cockpit's drawer, sees its photos (the resident's and the grid
// worker's), its place on a small map, the time left and a timeline in Chinese with
// names, sends a 督办 with a note, and reads the card in English; then the grid worker's
// desk (a phone) shows the 督办 as a marker in the queue and a red banner on the case.
// Prints a JSON report; tests/unit/test_browser_casecard.py checks it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, CHROMIUM, SHOTS, LEADER, HANDLER, CASE, NOTE } = process.env;
const base = new URL(BASE);
const report = { errors: [], external: [], axe: {} };
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

const kit = people(browser, base, report);
// in New York: the card must show the district's (Shanghai) time whatever the browser's
const person = (viewport, bypassCSP = false) => kit.person(viewport, { timezoneId: "America/New_York", serviceWorkers: "block", bypassCSP });
const signIn = (page, path, username) => kit.signIn(page, username, PASSWORD, path);

// axe-core's serious and critical WCAG 2 A/AA findings inside `selector` (as a11y.mjs
// scans whole pages; its script is put in by the test, hence a context without the CSP)
async function scan(page, selector, name) {
  await page.evaluate(AXE);
  const result = await page.evaluate((s) =>
    window.axe.run(document.querySelector(s), { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }), selector);
  report.axe[name] = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
}

async function openCard(page) {
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="open"] b')?.textContent || ""));
  await page.click('.tile[data-kpi="open"]');
  await page.waitForSelector(`#cases-list li.case[data-id="${CASE}"]`);
  await page.click(`#cases-list li.case[data-id="${CASE}"]`);
  await page.waitForSelector("#case-detail:not([hidden]) .cc-timeline li");
}

async function shot(page, name) {
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: SHOTS + "/" + name });
}

try {
  // ---------------------------------------------------------------- the leader
  const cockpit = await person({ width: 1920, height: 1080 });
  await signIn(cockpit, "/cockpit", LEADER);
  await openCard(cockpit);
  const card = "#case-detail:not([hidden])";
  // the photos are pictures the server sent, not broken images
  await cockpit.waitForFunction((s) => {
    const imgs = [...document.querySelectorAll(s)];
    return imgs.length >= 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, card + " .cc-photos img");
  report.photos = await cockpit.$$eval(card + " .cc-photos figcaption", (fs) => fs.map((f) => f.textContent));
  report.title = await cockpit.textContent(card + " h3");
  report.timeline = await cockpit.$$eval(card + " .cc-timeline li", (lis) => lis.map((li) => li.innerText.replace(/\n/g, " | ")));
  report.left = await cockpit.textContent(card + " .cc-left");
  report.mapShapes = await cockpit.locator(card + " .cc-map path").count();
  report.counts = await cockpit.textContent(card + " .cc-counts");
  report.detail = await cockpit.innerText(card);
  // 督办 with a note
  await cockpit.fill(card + " .cc-actions textarea", NOTE);
  await cockpit.click(card + " .cc-supervise");
  await cockpit.waitForSelector(card + " .cc-banner");
  report.banner = await cockpit.innerText(card + " .cc-banner");
  report.countsAfter = await cockpit.textContent(card + " .cc-counts");
  report.status = await cockpit.textContent(card + " .cc-status");
  report.lastLine = await cockpit.locator(card + " .cc-timeline li").last().innerText();
  await shot(cockpit, "cockpit-case.png");
  // the same card in English, by the page's one switch (under the open drawer's
  // shadow on a big screen, so pressed as a keyboard user would)
  await cockpit.locator("#lang").dispatchEvent("click");
  await cockpit.waitForFunction(() => document.documentElement.lang === "en");
  report.english = {
    headings: await cockpit.$$eval(card + " h4", (hs) => hs.map((h) => h.textContent)),
    supervise: await cockpit.textContent(card + " .cc-supervise"),
    left: await cockpit.textContent(card + " .cc-left"),
    status: await cockpit.textContent(card + " .cc-status"),
  };

  // the card, scanned for accessibility in both languages (the 督办 banner included)
  const scanned = await person({ width: 1920, height: 1080 }, true);
  await signIn(scanned, "/cockpit", LEADER);
  await openCard(scanned);
  await scan(scanned, "#case-detail", "card");
  await scanned.locator("#lang").dispatchEvent("click");
  await scanned.waitForFunction(() => document.documentElement.lang === "en");
  await scan(scanned, "#case-detail", "card (en)");

  // ---------------------------------------------------------------- the handler
  const desk = await person({ width: 390, height: 844 });
  await signIn(desk, "/desk", HANDLER);
  const item = `#list .case[data-case="${CASE}"]`;
  await desk.waitForSelector(item + " .supervised");
  report.marker = await desk.textContent(item + " .supervised");
  await desk.click(item);
  await desk.waitForSelector("#detail .supervision");
  report.deskBanner = await desk.innerText("#detail .supervision");
  await shot(desk, "desk-supervised.png");
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
