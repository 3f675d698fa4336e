// 业委会换届选举 (/elections, issue 21 item 6) in real Chromium. The community's
// dispatcher (1920×1080) creates an election from the form and nominates a candidate
// by unit; then runs the prepared one (its notice ended): opens voting, records two
// paper ballots and a proxy ballot; two residents vote on phones (390×844) for their
// households, and a second resident of a household that voted is told it has; the
// dispatcher counts and publishes. The result must elect only the candidate whom both
// the households and the floor area agree to. Screenshots at both sizes, each checked
// for Latin words on the Chinese page and for sideways scrolling.
// Prints a JSON report on its last line; tests/unit/test_browser_elections.py checks it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, CHROMIUM, SHOTS, STAFF, PREPARED } = process.env;
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const report = { errors: [], external: [], steps: [] };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const { person, signIn: enter } = people(browser, base, report);
const signIn = (page, username, next) => enter(page, username, PASSWORD, next);
const phone = { width: 390, height: 844 };
const desktop = { width: 1920, height: 1080 };

async function look(page, shot) {
  await page.evaluate(() => document.fonts.ready);
  const seen = await page.evaluate(() => ({
    latin: [...new Set(document.body.innerText.match(/[A-Za-z_]{4,}/g) || [])],
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  }));
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${shot}`, fullPage: true });
  return seen;
}

async function pickElection(page, title) {
  await page.locator("#elections button", { hasText: title }).click();
  await page.waitForFunction((t) => document.getElementById("one-title").textContent === t, title);
}

async function ballot(page, unit, choices, channel, proxy) {
  const value = await page.$eval("#vote select[name=household]", (s, u) => [...s.options].find((o) => o.textContent.startsWith(u + "（")).value, unit);
  await page.selectOption("#vote select[name=household]", value);
  await page.selectOption("#vote select[name=channel]", channel);
  if (proxy) await page.fill("#vote input[name=proxy]", proxy);
  for (const name of choices) await page.locator("#vote-choices label", { hasText: name }).locator("input").check();
  const before = await page.$$eval("#households tbody tr", (rs) => rs.filter((r) => !r.innerText.includes("未投票")).length);
  await page.click("#vote button[type=submit]");
  await page.waitForFunction((n) => [...document.querySelectorAll("#households tbody tr")].filter((r) => !r.innerText.includes("未投票")).length === n + 1, before);
}

async function residentVotes(username, choices) {
  const page = await person(phone);
  await signIn(page, username, "/elections");
  await page.waitForSelector("#one:not([hidden])");
  await page.waitForSelector("#vote:not([hidden])");
  for (const name of choices) await page.locator("#vote-choices label", { hasText: name }).locator("input").check();
  await page.click("#vote button[type=submit]");
  await page.waitForSelector("#voted:not([hidden])");
  const said = await page.innerText("#voted");
  return { page, said };
}

try {
  // 1. the dispatcher creates an election and nominates a candidate by unit
  const staff = await person(desktop);
  await signIn(staff, STAFF, "/elections");
  await staff.waitForSelector("#work:not([hidden])");
  await staff.click("#new-box summary");
  await staff.fill("#new-election input[name=title]", "试点小区业委会选举");
  report.areas = await staff.$$eval("#new-election select[name=area] option", (os) => os.map((o) => o.textContent));
  await staff.click("#new-election button[type=submit]");
  await staff.waitForFunction(() => document.getElementById("one-title").textContent === "试点小区业委会选举");
  report.newState = await staff.innerText("#one-state");
  report.householdChoices = await staff.$$eval("#nominate select[name=household] option", (os) => os.map((o) => o.textContent));
  await staff.selectOption("#nominate select[name=household]", { index: 0 });
  await staff.fill("#nominate input[name=name]", "王五");
  await staff.click("#nominate button[type=submit]");
  await staff.waitForFunction(() => document.getElementById("candidates").innerText.includes("王五"));
  report.nominated = await staff.innerText("#candidates");
  report.steps.push("created");

  // 2. the prepared election: its notice ended, voting opens; paper and proxy ballots;
  // a resident who registered their home is bound to their household
  await pickElection(staff, PREPARED);
  report.preparedState = await staff.innerText("#one-state");
  await staff.fill("#bind input[name=username]", "nobody");
  await staff.click("#bind button[type=submit]");
  await staff.waitForSelector("#bind .error:not([hidden])");
  report.bindRefused = await staff.innerText("#bind .error");
  const h6 = await staff.$eval("#bind select[name=household]", (s) => [...s.options].find((o) => o.textContent.startsWith("长征桥新村12幢 202（")).value);
  await staff.selectOption("#bind select[name=household]", h6);
  await staff.fill("#bind input[name=username]", "liu");
  await staff.click("#bind button[type=submit]");
  await staff.waitForSelector("#bound:not([hidden])");
  report.bound = await staff.innerText("#bound");
  await staff.click("#step");
  await staff.waitForFunction(() => document.getElementById("one-state").textContent.startsWith("投票中"));
  await ballot(staff, "长征桥新村3幢 102、长征桥新村12幢 101", ["刘六", "张一"], "paper");
  await ballot(staff, "长征桥新村3幢 202", ["陈三"], "proxy", "李四的女儿");
  await ballot(staff, "长征桥新村12幢 201", ["陈三"], "paper");
  report.households = await staff.$$eval("#households tbody tr", (rs) => rs.map((r) => r.innerText.replace(/\s+/g, " ").trim()));
  report.staffDesk = await look(staff, "elections-staff.png");
  report.steps.push("recorded");

  // 3. residents vote for their households on phones; a second resident of H1 cannot
  const zhang = await residentVotes("zhang", ["刘六", "张一"]);
  report.zhangSaid = zhang.said;
  report.phone = await look(zhang.page, "elections-phone.png");
  const chen = await residentVotes("chen", ["陈三", "刘六"]);
  report.chenSaid = chen.said;
  const zhang2 = await person(phone);
  await signIn(zhang2, "zhang2", "/elections");
  await zhang2.waitForSelector("#voted:not([hidden])");
  report.zhang2Said = await zhang2.innerText("#voted");
  report.zhang2Form = await zhang2.isVisible("#vote");
  report.steps.push("voted");

  // 4. the count, published
  staff.on("dialog", (d) => d.accept());
  await staff.reload();
  await pickElection(staff, PREPARED);
  await staff.click("#step");
  await staff.waitForSelector("#result:not([hidden])");
  report.turnout = await staff.innerText("#turnout");
  report.result = await staff.$$eval("#result-table tbody tr", (rs) => rs.map((r) => [...r.cells].map((c) => c.innerText.trim())));
  report.audit = await staff.$$eval("#audit li", (ls) => ls.map((l) => l.innerText));
  report.staffResult = await look(staff, "elections-result.png");
  await staff.setViewportSize(phone);
  report.staffPhone = await look(staff, "elections-result-phone.png");
  report.steps.push("published");

  // an accessibility scan (axe-core: WCAG 2 A/AA, serious and critical) of the result,
  // in Chinese and English; the axe script goes in past the page's CSP
  const scanned = await person(desktop, { bypassCSP: true });
  await signIn(scanned, STAFF, "/elections");
  await scanned.waitForSelector("#result:not([hidden])");
  await scanned.evaluate(() => document.fonts.ready);
  await scanned.evaluate(AXE);
  report.violations = {};
  for (const language of ["zh", "en"]) {
    if (language === "en") {
      await scanned.click("[data-lang-toggle]");
      await scanned.waitForFunction(() => document.documentElement.lang === "en");
      report.english = await scanned.innerText("#result-table tbody");
    }
    const axe = await scanned.evaluate(() =>
      window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
    );
    report.violations[language] = axe.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  }
  await scanned.context().close();

  // 5. the resident reads the result
  await zhang.page.reload();
  await zhang.page.waitForSelector("#result:not([hidden])");
  report.residentResult = await zhang.page.$$eval("#result-table tbody tr", (rs) => rs.map((r) => r.cells[3].innerText.trim()));
  report.residentStaffOnly = await zhang.page.isVisible("#staff-only");
  report.steps.push("read");
} catch (e) {
  report.errors.push(String(e && e.stack || e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
