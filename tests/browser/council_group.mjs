// A group of near-identical complaints answered once (issue 18, item 6), in a real
// browser: the community's dispatcher opens the council page on a 1920×1080 screen,
// sees the links to the other pages they work on, narrows the groups to the
// unanswered ones and searches, opens the biggest group — its title a resident's own
// sentence, ONE answer form, the members folded away — answers it, and every member
// shows the answer; the group leaves the "unanswered" list; the filtered list is
// exported; a resident who sent one of them reads the answer on the portal. Then the
// layout: side by side at 1920 and 3840, stacked on a phone.
// Prints a JSON report on its last line; tests/unit/test_browser_council.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, SHOTS, CHROMIUM, DISPATCHER, RESIDENT, WORDS, ANSWER } = process.env;
const report = { external: [], errors: [], steps: [] };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const { person, signIn: enter, seen } = people(browser, base, report);
const signIn = (page, username, next) => enter(page, username, PASSWORD, next);

// the groups listed now: [{id, n, title, meta}]
const listed = (page) => page.$$eval("#groups button.group", (bs) => bs.map((b) => ({
  id: b.dataset.id,
  n: Number(b.querySelector(".n").textContent),
  title: b.querySelector(".label").textContent,
  meta: b.querySelector(".meta").textContent,
})));

// what takes space and scrolls on its own (a box with a scroll bar of its own)
const layout = (page) => page.evaluate(() => {
  const box = (id) => {
    const r = document.getElementById(id).getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width };
  };
  const scrollers = [...document.querySelectorAll("main *")].filter((e) => {
    const s = getComputedStyle(e);
    return ["auto", "scroll"].includes(s.overflowY) && e.scrollHeight > e.clientHeight + 1;
  }).map((e) => e.id || e.className);
  return {
    list: box("list-panel"),
    detail: box("detail"),
    scrollers,
    pageWidth: document.documentElement.scrollWidth,
    fontSize: parseFloat(getComputedStyle(document.querySelector("#group-title")).fontSize),
  };
});

async function shot(page, name) {
  await page.evaluate(() => document.fonts.ready);
  if (SHOTS) await page.screenshot({ path: SHOTS + "/" + name });
}

try {
  const staff = await person({ width: 1920, height: 1080 });
  await signIn(staff, DISPATCHER, "/council");
  await staff.waitForSelector("#groups button.group");
  // the links to the pages this person works on, this one marked
  await staff.waitForSelector("nav[data-pages]:not([hidden]) a");
  report.pages = await staff.$$eval("nav[data-pages] a", (as) => as.map((a) => [a.getAttribute("href"), a.innerText.trim(), a.getAttribute("aria-current")]));
  report.groupsAtFirst = await listed(staff);

  // unanswered only, then words in the text
  await staff.selectOption("#filters select[name=answered]", "false");
  await Promise.all([
    staff.waitForResponse((r) => r.url().includes("/groups?") && r.url().includes("answered=false")),
    staff.click("#filters [data-action=filter]"),
  ]);
  // the answer is in; the list is drawn from it a moment later
  await staff.waitForFunction(() => (document.getElementById("groups").dataset.query || "").includes("answered=false"));
  report.unanswered = await listed(staff);
  await staff.fill("#filters input[name=q]", WORDS);
  await Promise.all([
    staff.waitForResponse((r) => r.url().includes("/groups?") && r.url().includes("q=")),
    staff.press("#filters input[name=q]", "Enter"),
  ]);
  await staff.waitForFunction(() => (document.getElementById("groups").dataset.query || "").includes("q="));
  report.searched = await listed(staff);
  report.filteredLine = await staff.textContent("#filtered");
  report.exportHref = await staff.getAttribute("#export", "href");
  report.steps.push("filtered");

  // the biggest group: its title, one answer form, the members folded
  const biggest = staff.locator("#groups button.group").first();
  report.group = await biggest.getAttribute("data-id");
  await biggest.click();
  await staff.waitForSelector("#group-detail:not([hidden]) #suggestions li.suggestion", { state: "attached" });
  report.groupTitle = await staff.textContent("#group-title");
  report.membersOpen = await staff.$eval("#members", (d) => d.open);
  report.answerForms = await staff.$$eval("#group-detail textarea", (ts) => ts.filter((t) => t.checkVisibility()).length);
  report.memberTexts = await staff.$$eval("#suggestions li.suggestion p.text", (ps) => ps.map((p) => p.textContent));
  await shot(staff, "council-group-1920.png");
  report.wide = await layout(staff);

  // one answer for all of them
  await staff.fill("#group-answer textarea[name=text]", ANSWER);
  await staff.click("#group-answer [data-action=answer-group]");
  await staff.waitForSelector("#group-answer .done:not([hidden])");
  report.answeredLine = await staff.textContent("#group-answer .done");
  report.afterAnswer = await listed(staff); // still filtered to the unanswered
  await staff.click("#members > summary");
  await staff.waitForSelector("#suggestions li.suggestion .answered");
  report.memberAnswers = await staff.$$eval("#suggestions li.suggestion", (lis) => lis.map((li) => {
    const a = li.querySelector(".answered span[lang=zh-CN]");
    return a ? a.textContent : null;
  }));
  report.steps.push("answered the group");

  // the export of what the filters show: a spreadsheet
  const exported = await staff.request.get(new URL(await staff.getAttribute("#export", "href"), base).href);
  report.exportStatus = exported.status();
  report.exportType = exported.headers()["content-type"];
  report.exportBytes = (await exported.body()).length;
  report.steps.push("exported");

  // a resident who sent one of them, signed in, reads the answer under it on the portal
  const resident = await person({ width: 390, height: 844 });
  await signIn(resident, RESIDENT, "/portal");
  await resident.click("button[data-tab=suggest]");
  await resident.waitForSelector("#my-suggestions:not([hidden]) li .answer");
  report.residentSees = await resident.$$eval("#my-suggestions li", (lis) => lis.map((li) => [...li.querySelectorAll("p")].map((p) => p.textContent)));
  await shot(resident, "portal-answer-390.png");
  seen.last = staff;
  report.steps.push("the resident read it");

  // the layout at the other two sizes, a group open
  await staff.selectOption("#filters select[name=answered]", "");
  await staff.click("#filters [data-action=clear]");
  await staff.waitForFunction(() => document.querySelectorAll("#groups button.group").length > 0);
  for (const [width, height, name] of [[3840, 2160, "huge"], [390, 844, "phone"]]) {
    await staff.setViewportSize({ width, height });
    await staff.locator("#groups button.group").first().click();
    await staff.waitForSelector("#group-detail:not([hidden]) #suggestions li.suggestion", { state: "attached" });
    await staff.evaluate(() => { window.scrollTo(0, 0); document.getElementById("detail").scrollTo(0, 0); });
    report[name] = await layout(staff);
    await shot(staff, `council-group-${width}.png`);
  }
  report.steps.push("laid out");
} catch (e) {
  report.errors.push(String(e));
  if (seen.last) report.shown = (await seen.last.textContent("main").catch(() => "")).slice(0, 2000);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
