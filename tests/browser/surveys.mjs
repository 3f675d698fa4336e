// 社会评价's staff page (/surveys, issue 19 item 6) in real Chromium: the district's
// dispatcher (考评办) creates a survey on a 1920×1080 screen — a wrong window first,
// refused next to its field — makes three one-time links (shown once, to copy or
// download) and invites 小河's verified residents, three respondents answer through them on the phone page (/survey/<token>),
// and the office reads the results: the chart sorted by mean, the table's counts, the
// comments, the xlsx export; screenshots at 390×844, 1920×1080 and 3840×2160, each
// checked for Latin words on the Chinese page and for sideways scrolling; an
// accessibility scan in both languages; then it closes the survey (asked once more).
// A district leader reads the results without the forms; a street's dispatcher gets no
// link in the header and the page says why.
// Prints a JSON report on its last line; tests/unit/test_browser_surveys.py checks it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, CHROMIUM, SHOTS, OFFICE, LEADER, STREET, UNTICK, ANSWERS } = process.env;
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const report = { errors: [], external: [], steps: [] };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const { person, signIn: enter, seen } = people(browser, base, report);
const signIn = (page, username, next) => enter(page, username, PASSWORD, next);

const phone = { width: 390, height: 844 };
const desktop = { width: 1920, height: 1080 };
const wall = { width: 3840, height: 2160 };

// what a person sees at this size: Latin words on the Chinese page, and whether it
// scrolls sideways
async function look(page, size, shot) {
  await page.setViewportSize(size);
  await page.waitForFunction(() => document.querySelector("#chart svg"));
  await page.evaluate(() => document.fonts.ready);
  // two frames: the chart's ResizeObserver redraws it at the new width
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const seenThere = await page.evaluate(() => ({
    latin: [...new Set(document.body.innerText.match(/[A-Za-z_]{4,}/g) || [])],
    svgLatin: [...new Set([...document.querySelectorAll("#chart svg text")].map((t) => t.textContent).join(" ").match(/[A-Za-z_]{4,}/g) || [])],
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    chartWidth: document.querySelector("#chart svg").getBoundingClientRect().width,
    chartBox: document.querySelector("#chart").clientWidth,
  }));
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${shot}`, fullPage: size.width < 1000 });
  return seenThere;
}

try {
  // signed out: to the sign-in page, and back here after it
  const stranger = await person(desktop);
  await stranger.goto(new URL("/surveys", base).href);
  await stranger.waitForURL(/\/login\?next=%2Fsurveys$/);
  report.signedOut = new URL(stranger.url()).pathname;
  await stranger.context().close();

  // 1. the office creates a survey
  const office = await person(desktop);
  await signIn(office, OFFICE, "/surveys");
  await office.waitForSelector("#new-survey input[name=unit]");
  await office.waitForSelector("nav[data-pages] a[data-page=surveys]", { state: "attached" });
  report.officePages = await office.$$eval("nav[data-pages] a", (as) => as.map((a) => a.innerText.trim()));
  report.kinds = await office.$$eval("#unit-groups .group-head b", (bs) => bs.map((b) => b.innerText.trim()));
  report.ticked = await office.$$eval("#unit-groups input", (xs) => [xs.filter((x) => x.checked).length, xs.length]);
  for (const name of UNTICK.split(",")) await office.locator("#unit-groups label", { hasText: name }).locator("input").uncheck();
  await office.fill("#new-survey input[name=title]", "2026 年度社会评价（测试）");
  // closes before it opens: refused, said next to the closing time
  const opens = await office.inputValue("#new-survey input[name=opens_at]");
  await office.fill("#new-survey input[name=closes_at]", opens);
  await office.click("#new-survey button[type=submit]");
  await office.waitForSelector('#new-survey .error[data-for="closes_at"]:not([hidden])');
  report.closesError = await office.innerText('#new-survey .error[data-for="closes_at"]');
  report.errorsShown = await office.$$eval("#new-survey .error:not([hidden])", (ps) => ps.length);
  report.createLatin = await office.evaluate(() => [...new Set(document.body.innerText.match(/[A-Za-z_]{4,}/g) || [])]);
  await office.evaluate(() => document.fonts.ready);
  if (SHOTS) await office.screenshot({ path: `${SHOTS}/surveys-create.png` });
  const [y, m, d] = opens.slice(0, 10).split("-").map(Number);
  const later = new Date(Date.UTC(y, m - 1, d + 14)).toISOString().slice(0, 10) + opens.slice(10);
  await office.fill("#new-survey input[name=closes_at]", later);
  await office.click("#new-survey button[type=submit]");
  await office.waitForSelector("#survey:not([hidden]) #results-table tbody tr");
  report.listed = await office.innerText("#surveys li:first-child .survey-item");
  report.steps.push("created");

  // 2. three one-time links, shown this once
  await office.fill("#invite-links input[name=links]", "3");
  await office.click("#invite-links button[type=submit]");
  await office.waitForSelector("#links-box:not([hidden])");
  const links = (await office.inputValue("#links")).split("\n");
  report.links = links.map((l) => l.replace(/sv_[^/]+$/, "sv_…"));
  report.warning = await office.innerText("#links-box .warning");
  const [file] = await Promise.all([office.waitForEvent("download"), office.click("#links-download")]);
  const text = readFileSync(await file.path(), "utf8");
  report.download = { name: file.suggestedFilename(), same: text.trim().split(/\r\n/).join("\n") === links.join("\n") };
  // and the verified residents of 小河街道, by account
  report.residentAreas = await office.$$eval("#invite-residents select[name=area] option", (os) => os.map((o) => o.textContent.trim()));
  await office.selectOption("#invite-residents select[name=area]", { label: "\u3000小河街道" });
  await office.click("#invite-residents button[type=submit]");
  await office.waitForSelector("#invite-residents .done:not([hidden])");
  report.residentsInvited = await office.innerText("#invite-residents .done");
  report.steps.push("links");

  // 3. each link answered once on the respondent's page (a phone)
  const answers = JSON.parse(ANSWERS); // [[{name: [rating, comment?]}], …] one per link
  for (const [i, link] of links.entries()) {
    const respondent = await person(phone, { hasTouch: true, isMobile: true });
    await respondent.goto(link);
    await respondent.waitForSelector("#units li");
    for (const [name, [rating, comment]] of Object.entries(answers[i])) {
      const row = respondent.locator("#units li", { has: respondent.locator(".unit-name", { hasText: name }) });
      await row.locator(`.stars button[data-stars='${rating}']`).tap();
      if (comment) await row.locator("textarea").fill(comment);
    }
    await respondent.click("#survey-form button[type=submit]");
    await respondent.waitForSelector("#done:not([hidden])");
    await respondent.context().close();
  }
  seen.last = office;
  report.steps.push("answered");

  // 4. the results
  await office.reload();
  await office.waitForSelector("#links-box[hidden]", { state: "attached" }); // gone with the reload
  await office.waitForFunction(() => /3 份答卷/.test(document.getElementById("results-meta").innerText));
  report.linksAfterReload = await office.inputValue("#links");
  report.listedAfter = await office.innerText("#surveys li:first-child .survey-item");
  report.rows = await office.$$eval("#results-table tbody tr", (trs) => trs.map((tr) => ({
    unit: tr.dataset.unit,
    responses: tr.cells[0 + 1].innerText.trim(),
    mean: tr.cells[2].innerText.trim(),
    interval: tr.cells[3].innerText.trim(),
    counts: [...tr.cells[4].querySelectorAll("span")].map((s) => s.innerText.trim()).join(" "),
  })));
  report.chart = await office.$$eval("#chart g.unit", (gs) => gs.map((g) => ({
    unit: g.dataset.unit,
    dot: !!g.querySelector("circle.mean"),
    whisker: g.querySelectorAll("line.whisker").length > 0,
    said: g.querySelector("text.value").textContent,
  })));
  report.comments = await office.$$eval("#comments details", (ds) => ds.map((d) => ({
    unit: d.querySelector("summary").innerText.trim(),
    said: [...d.querySelectorAll("li")].map((li) => li.innerText.replace(/\s+/g, " ").trim()),
  })));
  report.export = await office.evaluate(async () => {
    const r = await fetch(document.getElementById("export").href, { credentials: "same-origin" });
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get("content-type"), zip: bytes[0] === 0x50 && bytes[1] === 0x4b };
  });
  report.desktop = await look(office, desktop, "surveys-desktop.png");
  report.phone = await look(office, phone, "surveys-phone.png");
  report.wall = await look(office, wall, "surveys-wall.png");
  await office.setViewportSize(desktop);
  // English, on the button
  await office.click("[data-lang-toggle]");
  await office.waitForFunction(() => document.documentElement.lang === "en");
  await office.waitForFunction(() => !/[\u4e00-\u9fff]/.test(document.getElementById("results-meta").innerText));
  report.english = await office.innerText("#results-meta");
  report.englishTicks = await office.$$eval("#chart svg text.tick", (ts) => ts.map((t) => t.textContent));
  if (SHOTS) await office.screenshot({ path: `${SHOTS}/surveys-en.png` });
  await office.click("[data-lang-toggle]");
  await office.waitForFunction(() => document.documentElement.lang === "zh-CN");
  report.steps.push("results");

  // an accessibility scan (axe-core: WCAG 2 A/AA, serious and critical), in Chinese and
  // in English, of the page with its forms open and the results drawn; the axe script
  // is put in by the test, past the page's CSP (a context of its own)
  const scanned = await person(desktop, { bypassCSP: true });
  await signIn(scanned, OFFICE, "/surveys");
  await scanned.waitForSelector("#chart svg");
  await scanned.click("#new-box > summary");
  await scanned.evaluate(() => document.fonts.ready);
  await scanned.evaluate(AXE);
  report.violations = {};
  for (const language of ["zh", "en"]) {
    if (language === "en") {
      await scanned.click("[data-lang-toggle]");
      await scanned.waitForFunction(() => document.documentElement.lang === "en");
    }
    const axe = await scanned.evaluate(() =>
      window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
    );
    report.violations[language] = axe.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  }
  await scanned.context().close();
  seen.last = office;
  report.steps.push("scanned");

  // 5. closed early, asked once more first
  await office.click("#close-box [data-action=close]");
  report.confirm = await office.innerText("#close-confirm p");
  await office.click("#close-box [data-action=confirm-close]");
  await office.waitForSelector("#close-box[hidden]", { state: "attached" });
  report.closedBadge = await office.innerText("#survey-title .badge");
  report.invitesAfterClose = await office.$$eval("#invite-links:not([hidden]), #invite-residents:not([hidden])", (fs) => fs.length);
  report.steps.push("closed");

  // 6. a district leader reads, without the forms
  const leader = await person({ width: 1280, height: 800 });
  await signIn(leader, LEADER, "/surveys");
  await leader.waitForSelector("#survey:not([hidden]) #results-table tbody tr");
  await leader.waitForSelector("nav[data-pages] a[data-page=surveys]", { state: "attached" });
  report.leaderRows = await leader.$$eval("#results-table tbody tr", (trs) => trs.length);
  report.leaderForms = await leader.$$eval("[data-run]:not([hidden])", (xs) => xs.length);
  if (SHOTS) await leader.screenshot({ path: `${SHOTS}/surveys-leader.png` });
  report.steps.push("leader");

  // 7. a street's dispatcher: no link in the header, and the page says why
  const street = await person({ width: 1280, height: 800 });
  await signIn(street, STREET, "/surveys");
  await street.waitForSelector("#notice:not([hidden])");
  await street.waitForSelector("nav[data-pages] a", { state: "attached" });
  report.streetPages = await street.$$eval("nav[data-pages] a", (as) => as.map((a) => a.dataset.page));
  report.streetNotice = await street.innerText("#notice");
  report.streetWork = await street.$$eval("#work:not([hidden])", (xs) => xs.length);
  if (SHOTS) await street.screenshot({ path: `${SHOTS}/surveys-refused.png` });
  await street.goto(new URL("/desk", base).href);
  await street.waitForSelector("nav[data-pages] a", { state: "attached" });
  report.streetDeskPages = await street.$$eval("nav[data-pages] a", (as) => as.map((a) => a.dataset.page));
  report.steps.push("street refused");
} catch (e) {
  report.errors.push(String(e));
  if (seen.last && SHOTS) await seen.last.screenshot({ path: `${SHOTS}/failed.png` }).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
