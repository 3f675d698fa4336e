// 线上宣讲 on the council page (issue 21 item 5), on a phone (390×844) and a wide screen
// (1920×1080): the community's dispatcher creates a briefing (its invitation list drawn
// from the area's enterprises), marks an enterprise as come, records two questions,
// answers one and turns the other into a case in the closed loop; a leader sees the
// briefings without the forms. Then 促动师: the dispatcher registers a resident as the
// community's facilitator, who raises a topic on the portal on a phone, moves it on and
// calls a meeting, and the council page counts it. Prints a JSON report on its last line;
// tests/unit/test_browser_briefings.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, SHOTS, CHROMIUM, DISPATCHER, LEADER, RESIDENT } = process.env;
const report = { external: [], errors: [], steps: [] };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const { person, signIn: enter, seen } = people(browser, base, report);
const signIn = (page, username, next) => enter(page, username, PASSWORD, next);
const sizes = { phone: { width: 390, height: 844 }, wide: { width: 1920, height: 1080 } };
const words = { phone: "手机", wide: "大屏" };

try {
  for (const [name, viewport] of Object.entries(sizes)) {
    const page = await person(viewport);
    await signIn(page, DISPATCHER, "/council");
    await page.waitForFunction(() => document.querySelector("#briefings-stats").textContent.length > 0);
    await page.click("#new-briefing-box > summary");
    await page.fill("#new-briefing input[name=title]", `稳岗返还政策线上宣讲（${words[name]}）`);
    await page.fill("#new-briefing textarea[name=topic]", "疫情期间稳岗返还与社保减免");
    await page.selectOption("#new-briefing select[name=mode]", "online");
    // an hour ago on the district's clock: it has begun, so attendance can be marked
    await page.evaluate(() => {
      const { time, clock } = window.cityeye;
      document.querySelector("#new-briefing input[name=at]").value = time.input(clock.now() - 3600e3);
    });
    await page.fill("#new-briefing input[name=link]", "https://meeting.example.cn/j/123");
    await page.click("#new-briefing [data-action=create-briefing]");
    await page.waitForSelector("#briefing:not([hidden]) table.roll tr[data-subject]");
    const shown = {};
    shown.invited = await page.$$eval("#briefing tr[data-subject]", (rows) => rows.map((r) => r.dataset.subject));
    shown.names = await page.$$eval("#briefing tr[data-subject] td:first-child", (cells) => cells.map((c) => c.textContent));
    await page.locator('#briefing tr[data-subject="E2"] td:nth-child(3) input').click();
    await page.waitForFunction(() => /参会 1 家/.test(document.querySelector("#briefing .tally").textContent));
    shown.tally = await page.textContent("#briefing .tally");
    const ask = async (subject, text, n) => {
      await page.selectOption("#briefing form.ask select[name=subject]", subject);
      await page.fill("#briefing form.ask textarea[name=text]", text);
      await page.click("#briefing form.ask [data-action=add-question]");
      await page.waitForSelector(`#briefing .questions li[data-n="${n}"]`);
    };
    await ask("E2", "稳岗返还什么时候到账？", 1);
    await ask("E3", "店门口人行道破损，顾客进出不便", 2);
    const first = page.locator('#briefing .questions li[data-n="1"]');
    await first.locator("textarea[name=text]").fill("本月底前到账，可在浙里办查询");
    await first.locator("[data-action=answer-question]").click();
    await page.waitForSelector('#briefing .questions li[data-n="1"] .answer');
    await page.locator('#briefing .questions li[data-n="2"] [data-action=question-case]').click();
    await page.waitForSelector('#briefing .questions li[data-n="2"] .case');
    shown.answer = await page.textContent('#briefing .questions li[data-n="1"] .answer');
    shown.case = await page.textContent('#briefing .questions li[data-n="2"] .case');
    // the stats count every briefing of the area: the phone's first, then the wide screen's too
    const made = name === "phone" ? 1 : 2;
    await page.waitForFunction((n) => document.querySelector("#briefings-stats").textContent.includes(`转工单 ${n} 个`), made);
    shown.stats = await page.textContent("#briefings-stats");
    // nothing wider than the screen
    shown.overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    shown.id = await page.getAttribute("#briefing", "data-id");
    await page.screenshot({ path: `${SHOTS}/briefing-${name}.png`, fullPage: true });
    report[name] = shown;
    report.steps.push(name);
  }

  // a leader reads the same, without the forms, and cannot tick a box
  const leader = await person(sizes.wide);
  await signIn(leader, LEADER, "/council");
  await leader.waitForSelector("#briefings li[data-briefing]");
  report.leader = {
    listed: await leader.$$eval("#briefings li[data-briefing]", (items) => items.length),
    formShown: await leader.isVisible("#new-briefing-box"),
  };
  await leader.locator("#briefings li[data-briefing] [data-action=open-briefing]").first().click();
  await leader.waitForSelector("#briefing:not([hidden]) table.roll tr[data-subject]");
  report.leader.boxesDisabled = await leader.$$eval("#briefing input[type=checkbox]", (boxes) => boxes.every((b) => b.disabled));
  report.leader.askShown = (await leader.$$("#briefing form.ask")).length;
  report.steps.push("leader");

  // 促动师: the dispatcher registers a resident of 小河 on the council page …
  const staff = await person(sizes.wide);
  await signIn(staff, DISPATCHER, "/council");
  await staff.waitForSelector("#facilitator-new select[name=community] option", { state: "attached" });
  await staff.fill("#facilitator-new input[name=user]", RESIDENT);
  await staff.fill("#facilitator-new input[name=note]", "2020 年促动师培训");
  await staff.click("#facilitator-new [data-action=train-facilitator]");
  await staff.waitForSelector(`#facilitators li[data-username="${RESIDENT}"]`);
  // … who, on a phone, raises a topic of their community on the portal, moves it on
  // and calls a meeting they run
  const resident = await person(sizes.phone);
  await signIn(resident, RESIDENT, "/portal");
  await resident.click("button[data-tab=topics]");
  await resident.waitForSelector("#facilitator-topic");
  await resident.fill("#facilitator-topic input[name=title]", "楼道堆物清理");
  await resident.fill("#facilitator-topic textarea[name=description]", "3 幢楼道堆放杂物，影响消防通道");
  await resident.click("#facilitator-topic button[type=submit]");
  await resident.waitForSelector("#topic[data-step=propose] #facilitate");
  await resident.click("#facilitate [data-action=advance]");
  await resident.waitForSelector("#topic[data-step=opinions] #facilitate");
  await resident.fill("#facilitate input[name=place]", "小河社区议事厅");
  await resident.click("#facilitate [data-action=meeting]");
  await resident.waitForFunction(() => document.querySelector("#topic").textContent.includes("会议已创建"));
  report.facilitator = {
    heading: await resident.textContent("#facilitator-topic h3"),
    meetings: await resident.$$eval("#topic h3", (hs) => hs.map((h) => h.textContent).filter((t) => t.startsWith("红茶议事会"))),
    overflow: await resident.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
  };
  await resident.screenshot({ path: `${SHOTS}/facilitator-phone.png`, fullPage: true });
  // the dispatcher calls another meeting on the topic and names the facilitator to run it
  const topic = await resident.getAttribute("#topic", "data-topic");
  await staff.goto(new URL("/council#topic=" + topic, base).href);
  await staff.waitForSelector(`#new-meeting select[name=moderator] option[value="${RESIDENT}"]`, { state: "attached" });
  await staff.selectOption("#new-meeting select[name=moderator]", RESIDENT);
  await staff.fill("#new-meeting input[name=place]", "线上");
  await staff.click("#new-meeting [data-action=create-meeting]");
  await staff.waitForFunction(() => document.querySelectorAll("#meetings li.meeting").length === 2);
  // the council page counts the facilitator and the meetings they ran
  await staff.click("#reload");
  await staff.waitForFunction(() => document.querySelector("#facilitators-count").textContent.includes("主持会议 2 场"));
  report.facilitator.counts = await staff.textContent("#facilitators-count");
  await staff.locator("#briefings-panel").screenshot({ path: `${SHOTS}/facilitators-wide.png` });
  report.steps.push("facilitator");
} catch (e) {
  report.errors.push(String(e));
  const shown = seen.last;
  if (shown) {
    report.shown = (await shown.textContent("main").catch(() => "")).slice(0, 2000);
    await shown.screenshot({ path: `${SHOTS}/failed.png` }).catch(() => {});
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
