// The accessibility scan (issue 17): axe-core, from this folder's node_modules (no
// network), over every page as its users open it — the status page, sign-in, the
// portal, the desk, the council page and the public board on a 390×844 phone, the
// cockpit and the staff board on a 1920×1080 screen — in Chinese and in English. Reports each page's serious and critical
// violations (WCAG 2 A/AA rules), and the Latin words each Chinese page shows;
// tests/unit/test_browser_a11y.py requires none of either.
// Prints a JSON report on its last line.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const { BASE, PASSWORD, CHROMIUM, DISPATCHER, LEADER } = process.env;
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const report = { errors: [], pages: {}, latin: {} };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

// the scan's script is put into the page by the test, not loaded by it: the page's own
// Content-Security-Policy (scripts from this server only) would refuse it otherwise
async function person(viewport) {
  const context = await browser.newContext({ viewport, locale: "zh-CN", bypassCSP: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => report.errors.push(e.message));
  return page;
}

async function signIn(page, username, next) {
  await page.goto(new URL("/login?next=" + encodeURIComponent(next), base).href);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button[type=submit]");
  await page.waitForURL(new RegExp(next + "$"));
}

async function scan(page, name) {
  await page.evaluate(() => document.fonts.ready);
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  report.pages[name] = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
}

// the English a Chinese page shows: words of four or more Latin letters in what a person
// sees (innerText: the hidden language left out)
async function latin(page, name) {
  report.latin[name] = await page.evaluate(() => [...new Set(document.body.innerText.match(/[A-Za-z_]{4,}/g) || [])]);
}

async function bothLanguages(page, name) {
  await latin(page, name);
  await scan(page, name);
  await page.click("[data-lang-toggle]");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  await scan(page, name + " (en)");
  await page.click("[data-lang-toggle]");
}

const phone = { width: 390, height: 844 };
try {
  const anyone = await person(phone);
  await anyone.goto(new URL("/", base).href);
  await bothLanguages(anyone, "status");
  await anyone.goto(new URL("/login", base).href);
  await bothLanguages(anyone, "login");
  await anyone.goto(new URL("/portal", base).href);
  await anyone.waitForSelector("select[name=category] option[value=road]", { state: "attached" });
  await bothLanguages(anyone, "portal");
  await anyone.goto(new URL("/board", base).href);
  await anyone.waitForSelector("#chart[data-drawn]");
  await bothLanguages(anyone, "board");

  const dispatcher = await person(phone);
  await signIn(dispatcher, DISPATCHER, "/desk");
  await dispatcher.waitForSelector("#tabs button");
  await bothLanguages(dispatcher, "desk");
  await dispatcher.goto(new URL("/council", base).href);
  await dispatcher.waitForSelector("#resident-new select[name=area] option", { state: "attached" });
  await bothLanguages(dispatcher, "council");

  const leader = await person({ width: 1920, height: 1080 });
  await signIn(leader, LEADER, "/cockpit");
  await leader.waitForSelector('.tile[data-kpi="handling_rate"] .label');
  await bothLanguages(leader, "cockpit");
  await leader.goto(new URL("/board", base).href);
  await leader.waitForSelector("#chart[data-drawn]");
  await bothLanguages(leader, "board (staff)");
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
