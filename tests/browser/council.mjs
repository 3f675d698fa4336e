// One topic from a resident's suggestion to a resolution whose action is a case
// (社情民意 → 红茶议事会, issue 7), in real browsers:
//   a verified resident suggests on the portal → the community's dispatcher, on the
//   council page, turns it into a topic and moves it through the six steps (a meeting
//   with minutes, a ballot) → two of the three verified residents vote on the portal →
//   the dispatcher closes the vote and writes the resolution with an action → the
//   portal shows the result and the action's case.
// Prints a JSON report on its last line; tests/unit/test_browser_council.py checks it.
import { chromium } from "playwright-core";

const { BASE, PASSWORD, SHOTS, CHROMIUM, DISPATCHER, RESIDENTS, AREA, PARTY } = process.env;
const residents = RESIDENTS.split(",");
const report = { external: [], errors: [], steps: [], topic: null, suggestion: null };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
let last = null; // the page in use, to say what it showed if a step fails

async function person(viewport) {
  const context = await browser.newContext({ viewport, locale: "zh-CN" });
  const page = await context.newPage();
  page.on("request", (r) => {
    if (!r.url().startsWith("data:") && new URL(r.url()).host !== base.host) report.external.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  last = page;
  return page;
}

async function signIn(page, username, next) {
  await page.goto(new URL("/login?next=" + encodeURIComponent(next), base).href);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(new RegExp(next.replace(/[#?]/g, "\\$&") + "$"));
}

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
  report.suggestion = (await li.textContent("#suggest-receipt .meta")).split(":").pop().trim();
  report.category = await li.textContent("#suggest-receipt p:nth-of-type(2)");
  report.steps.push("suggested");

  // 2. the dispatcher takes it to the council and through the steps
  const staff = await person(screen);
  await signIn(staff, DISPATCHER, "/council");
  report.council = await staff.title();
  const api = async (method, path, body) => {
    // the staff page's own session: the same cookie and CSRF value it uses
    return staff.evaluate(
      async ([method, path, body]) => {
        const csrf = (document.cookie.match(/(?:^|;\s*)cityeye_csrf=([^;]+)/) || [])[1] || "";
        const r = await fetch(path, {
          method,
          headers: { "content-type": "application/json", "x-csrf-token": decodeURIComponent(csrf) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: r.status, body: await r.json() };
      },
      [method, path, body],
    );
  };
  const P = "/api/v1/participation";
  const made = await api("POST", `${P}/suggestions/${report.suggestion}/topic`, { title: "东门空地改建停车场", kind: "estate" });
  if (made.status !== 200 && made.status !== 201) throw new Error("topic: " + JSON.stringify(made.body));
  report.topic = made.body.id;
  const T = `${P}/topics/${report.topic}`;
  const step = async (note) => {
    const r = await api("POST", `${T}/advance`, { note });
    if (r.status !== 200) throw new Error("advance: " + JSON.stringify(r.body));
    return r.body.step.code;
  };
  await step("征集居民意见两周"); // → 广开言路
  await step("召开红茶议事会"); // → 民主协商
  const meeting = await api("POST", `${T}/meetings`, { mode: "offline", at: new Date().toISOString(), place: "社区红茶议事厅", agenda: ["停车位方案"] });
  await api("PUT", `/api/v1/participation/meetings/${meeting.body.id}/minutes`, { text: "物业、业委会、居民代表同意先做方案并表决" });
  // the online meeting: the resident who raised it takes part from the portal
  const online = await api("POST", `${T}/meetings`, { mode: "online", at: new Date().toISOString(), agenda: ["听取居民意见"] });
  await api("POST", `/api/v1/participation/meetings/${online.body.id}/participants`, { role: "resident", user: residents[0] });
  await api("POST", `/api/v1/participation/meetings/${online.body.id}/participants`, { role: "property", name: "绿城物业" });
  await li.goto(new URL(`/portal#topic=${report.topic}`, base).href);
  await li.reload();
  await li.fill("#topic form.speak textarea", "东门空地晚上可以给下班的居民停车，白天留给老人活动");
  await li.click("#topic form.speak button");
  await li.waitForSelector("#topic ol.turns li >> text=东门空地晚上可以");
  report.steps.push("spoke online");
  await step("议事会协商一致，拟订方案"); // → 拟订方案
  await api("PUT", `${T}/ballot`, { options: ["同意改建", "不同意"] });
  report.atVote = await step("方案公示，居民表决"); // → 居民表决
  report.steps.push("to the vote");

  // 3. two of the three verified residents vote on the portal
  for (const name of residents.slice(0, 2)) {
    const voter = await person(phone);
    await signIn(voter, name, "/portal");
    await voter.goto(new URL(`/portal#topic=${report.topic}`, base).href);
    await voter.reload(); // the hash opens the topic at start
    await voter.waitForSelector('#topic .vote button[data-choice="同意改建"]');
    await voter.click('#topic .vote button[data-choice="同意改建"]');
    await voter.waitForSelector("#topic .rated");
  }
  report.steps.push("voted");

  // 4. the vote is closed, the resolution written, its action becomes a case
  await api("POST", `${T}/ballot/close`, {});
  report.atResolve = await step("表决通过");
  const resolved = await api("POST", `${T}/resolution`, {
    text: "东门空地改建为 20 个停车位，由物业实施",
    actions: [{ title: "东门空地改建停车位", party: PARTY, due_days: 30 }],
  });
  if (resolved.status !== 201) throw new Error("resolution: " + JSON.stringify(resolved.body));
  report.steps.push("resolved");

  // 5. anyone sees the whole record on the portal, the action's case with it
  const anyone = await person(phone);
  await anyone.goto(new URL(`/portal#topic=${report.topic}`, base).href);
  await anyone.waitForSelector("#topic .tally");
  await anyone.waitForSelector("#topic h3 >> text=决议");
  report.tally = await anyone.textContent("#topic .tally");
  report.resolutionShown = await anyone.textContent("#topic");
  await anyone.evaluate(() => document.fonts.ready);
  if (SHOTS) await anyone.screenshot({ path: SHOTS + "/topic.png", fullPage: true });
  report.steps.push("public record");
} catch (e) {
  report.errors.push(String(e));
  if (last) report.shown = (await last.textContent("main").catch(() => "")).slice(0, 2000);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
