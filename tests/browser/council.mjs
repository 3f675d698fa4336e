// One topic from a resident's suggestion to a resolution whose action is a case
// (社情民意 → 红茶议事会, issue 7), in real browsers:
//   a verified resident suggests on the portal → the community's dispatcher, on the
//   council page, turns it into a topic and moves it through the six steps (a meeting
//   with minutes, a ballot) → two of the three verified residents vote on the portal →
//   the dispatcher closes the vote and writes the resolution with an action → the
//   portal shows the result and the action's case.
// Also a volunteer (民情快递) records a neighbour's suggestion door to door.
// Prints a JSON report on its last line; tests/unit/test_browser_council.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, PASSWORD, SHOTS, CHROMIUM, DISPATCHER, RESIDENTS, AREA, PARTY } = process.env;
const residents = RESIDENTS.split(",");
const report = { external: [], errors: [], steps: [], topic: null, suggestion: null };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const { person, signIn: enter, seen } = people(browser, base, report);
const signIn = (page, username, next) => enter(page, username, PASSWORD, next);

const phone = { width: 390, height: 844 };
const screen = { width: 1280, height: 800 };

try {
  // 1. a verified resident suggests, signed in, on the portal
  const li = await person(phone);
  await signIn(li, residents[0], "/portal");
  await li.click("button[data-tab=suggest]");
  await li.waitForSelector(`#suggest-form select[name=area] option[value="${AREA}"]`, { state: "attached" });
  await li.selectOption("#suggest-form select[name=area]", AREA);
  await li.fill("#suggest-form textarea[name=text]", "小区停车位太少，晚上车都停到消防通道上了，建议把东门空地改成停车场");
  await li.click("#suggest-form button[type=submit]");
  await li.waitForSelector("#suggest-receipt:not([hidden])");
  report.suggestion = (await li.textContent("#suggest-receipt .meta")).split(/[:：]/).pop().trim();
  report.category = await li.textContent("#suggest-receipt p:nth-of-type(2)");
  report.steps.push("suggested");

  // 2. the dispatcher, on the council page, makes the suggestion a topic and moves it
  const staff = await person(screen);
  await signIn(staff, DISPATCHER, "/council");
  await staff.locator("#groups button.group").first().click();
  const item = staff.locator(`#suggestions li.suggestion[data-id="${report.suggestion}"]`);
  await item.locator("details.moves > summary").click(); // this one alone, not the group
  await item.locator("input[name=title]").fill("东门空地改建停车场");
  await item.locator("[data-action=to-topic]").click();
  await staff.waitForSelector("#topic[data-step=propose]");
  report.topic = await staff.getAttribute("#topic", "data-id");
  // the six steps by their names (GET /api/v1/meta), in one language at a time:
  // Chinese, then English on the 中/EN button (kept across a reload), then Chinese again
  const shownSteps = () => staff.$$eval("#steps li b", (bs) => bs.map((b) => b.innerText.trim()));
  report.councilSteps = await shownSteps();
  await staff.click("[data-lang-toggle]");
  await staff.waitForFunction(() => document.documentElement.lang === "en");
  // the steps are drawn again for the new language: read them once they have been
  // (a page that kept Chinese beside the English times out here, and fails)
  await staff.waitForFunction(() => [...document.querySelectorAll("#steps li b")].every((b) => !/[\u4e00-\u9fff]/.test(b.innerText)));
  report.councilStepsEn = await shownSteps();
  await staff.reload();
  await staff.waitForSelector("#topic[data-step=propose]");
  report.keptAfterReload = await staff.evaluate(() => document.documentElement.lang);
  await staff.click("[data-lang-toggle]");
  await staff.waitForFunction(() => document.documentElement.lang === "zh-CN");
  const advance = async (note, to) => {
    await staff.fill("#advance-note", note);
    await staff.click("#advance-button");
    await staff.waitForSelector(`#topic[data-step=${to}]`);
    return to;
  };
  const meeting = async (mode, place) => {
    const ids = () => staff.$$eval("#meetings li.meeting", (all) => all.map((m) => m.dataset.id));
    await staff.waitForLoadState("networkidle"); // the record re-drawn after the last change
    const before = await ids();
    await staff.selectOption("#new-meeting select[name=mode]", mode);
    await staff.fill("#new-meeting input[name=place]", place);
    await staff.fill("#new-meeting textarea[name=agenda]", "停车位方案");
    await staff.click("#new-meeting [data-action=create-meeting]");
    await staff.waitForFunction(
      (n) => document.querySelectorAll("#meetings li.meeting").length > n,
      before.length,
    );
    const made = (await ids()).find((id) => !before.includes(id));
    return staff.locator(`#meetings li.meeting[data-id="${made}"]`); // listed by time, not by creation
  };
  await advance("征集居民意见两周", "opinions");
  await advance("召开红茶议事会", "consult");
  const offline = await meeting("offline", "社区红茶议事厅");
  await offline.locator("textarea[name=minutes]").fill("物业、业委会、居民代表同意先做方案并表决");
  const [saved] = await Promise.all([
    staff.waitForResponse((r) => r.url().endsWith("/minutes") && r.request().method() === "PUT"),
    offline.locator("[data-action=save-minutes]").click(),
  ]);
  if (!saved.ok()) throw new Error("minutes: " + saved.status());
  // the online meeting: the resident who raised it takes part from the portal
  const online = await meeting("online", "线上议事群");
  await online.locator("select[name=role]").selectOption("resident");
  await online.locator("input[name=user]").fill(residents[0]);
  await online.locator("[data-action=add-participant]").click();
  await online.locator(".participants li[data-n]").waitFor();
  seen.last = li;
  await li.goto(new URL(`/portal#topic=${report.topic}`, base).href);
  await li.reload();
  await li.fill("#topic form.speak textarea", "东门空地晚上可以给下班的居民停车，白天留给老人活动");
  await li.click("#topic form.speak button");
  await li.waitForSelector("#topic ol.turns li >> text=东门空地晚上可以");
  report.steps.push("spoke online");
  await advance("议事会协商一致，拟订方案", "draft");
  await staff.fill("#ballot-form textarea[name=options]", "同意改建\n不同意");
  await staff.click("#ballot-form [data-action=save-ballot]");
  await staff.waitForSelector("#ballot-options li");
  report.atVote = await advance("方案公示，居民表决", "vote");
  report.steps.push("to the vote");

  // 3. two of the three verified residents vote on the portal
  for (const name of residents.slice(0, 2)) {
    const voter = await person(phone);
    await signIn(voter, name, "/portal");
    await voter.goto(new URL(`/portal#topic=${report.topic}`, base).href);
    await voter.reload(); // the hash opens the topic at start
    await voter.waitForSelector('#topic .vote button[data-choice="同意改建"]');
    await voter.click('#topic .vote button[data-choice="同意改建"]');
    // asked once more before the one vote goes (it cannot be changed)
    report.confirmShown = await voter.innerText("#topic .vote .confirm p");
    await voter.click('#topic .vote button[data-action="confirm-vote"]');
    await voter.waitForSelector("#topic .rated");
  }
  report.steps.push("voted");

  // 4. the vote is closed, the resolution written, its action becomes a case
  await staff.reload();
  await staff.waitForSelector("#close-ballot");
  await staff.click("#close-ballot");
  await staff.waitForSelector("#tally[data-passed=true]");
  report.atResolve = await advance("表决通过", "resolve");
  await staff.fill("#resolution-form textarea[name=text]", "东门空地改建为 20 个停车位，由物业实施");
  const row = staff.locator("#action-rows .action-row").first();
  await row.locator("[name=action_title]").fill("东门空地改建停车位");
  await row.locator("select[name=party]").selectOption(PARTY);
  await row.locator("[name=due_days]").fill("30");
  await staff.click("#resolve");
  await staff.waitForSelector("#actions li.action");
  await staff.evaluate(() => document.fonts.ready);
  // the groups, the topic and its six steps: the page and the right column at their tops
  await staff.evaluate(() => { window.scrollTo(0, 0); document.getElementById("detail").scrollTo(0, 0); });
  if (SHOTS) await staff.screenshot({ path: SHOTS + "/council.png" });
  report.steps.push("resolved");

  // 5. anyone sees the whole record on the portal, the action's case with it
  const anyone = await person(phone);
  await anyone.goto(new URL(`/portal#topic=${report.topic}`, base).href);
  await anyone.waitForSelector("#topic .tally");
  await anyone.waitForSelector("#topic h3 >> text=决议");
  report.tally = await anyone.textContent("#topic .tally");
  report.resolutionShown = await anyone.textContent("#topic");
  report.portalSteps = await anyone.$$eval("#topic .steps span", (all) => all.map((x) => x.textContent));
  report.portalMeetings = await anyone.$$eval("#topic h3", (all) => all.map((x) => x.textContent).filter((x) => x.startsWith("红茶议事会")));
  report.portalTurns = await anyone.$$eval("#topic ol.turns li span", (all) => all.map((x) => x.textContent));
  await anyone.evaluate(() => document.fonts.ready);
  if (SHOTS) await anyone.screenshot({ path: SHOTS + "/topic.png", fullPage: true });
  report.steps.push("public record");

  // 6. a new neighbour comes to the community's counter: the dispatcher registers them
  // with their home verified (居民核验), gives them the password shown once, and they
  // sign in as a resident of that home
  seen.last = staff;
  await staff.goto(new URL("/council", base).href);
  await staff.waitForSelector("#resident-new select[name=area] option", { state: "attached" });
  await staff.fill("#resident-new input[name=username]", "new.neighbour");
  await staff.fill("#resident-new input[name=display_name]", "新邻居");
  report.homeOffered = await staff.$$eval("#resident-new select[name=area] option", (os) => os.map((o) => o.value));
  await staff.click("#resident-new button[type=submit]");
  await staff.waitForSelector("#resident-new .password:not([hidden]) b");
  const initial = await staff.textContent("#resident-new .password b");
  await staff.waitForSelector('#residents li[data-username="new.neighbour"]');
  report.residentListed = await staff.innerText('#residents li[data-username="new.neighbour"]');
  const neighbour = await person(phone);
  const signedIn = await neighbour.request.post(new URL("/api/v1/auth/login", base).href, { data: { username: "new.neighbour", password: initial } });
  report.neighbour = (await signedIn.json()).user;
  report.steps.push("verified a home");

  // 7. a volunteer collecting door to door (民情快递) writes down a neighbour's words
  const volunteer = await person(phone);
  await signIn(volunteer, process.env.VOLUNTEER, "/portal");
  await volunteer.click("button[data-tab=suggest]");
  await volunteer.selectOption("#suggest-form select[name=channel]", "volunteer");
  await volunteer.selectOption("#suggest-form select[name=area]", AREA);
  await volunteer.fill("#suggest-form textarea[name=text]", "3 幢的王阿姨说楼道灯坏了一个月了，晚上下楼看不见");
  await volunteer.click("#suggest-form button[type=submit]");
  await volunteer.waitForSelector("#suggest-receipt:not([hidden])");
  report.steps.push("door to door");
} catch (e) {
  report.errors.push(String(e));
  const shown = seen.last;
  if (shown) report.shown = (await shown.textContent("main").catch(() => "")).slice(0, 2000);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
