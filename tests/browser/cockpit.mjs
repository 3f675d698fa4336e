// The cockpit on a big screen (1920×1080) in a real browser: sign in as a leader, see
// the boundaries and the KPI tiles, drill into a street, watch an alert raised by an
// event posted over HTTP arrive in the live stream without a reload, switch to English
// (remembered over a reload), open the cases behind a tile, and never ask another host
// for anything. Prints a JSON report; tests/unit/test_browser.py checks it.
import { chromium } from "playwright-core";

const { BASE, USERNAME, PASSWORD, SHOT, CHROMIUM, LIVE_EVENTS } = process.env;
const report = {
  external: [], errors: [], boundaries: 0, tiles: {}, street: null, communities: [],
  crumbs: [], live: [], posted: null, english: {}, remembered: null, cases: 0, caseTitles: [],
  detail: null, markers: 0, reloads: 0, participation: {},
};
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({
    viewport: { width: 1920, height: 1080 }, locale: "zh-CN", timezoneId: "Asia/Shanghai",
  });
  const page = await context.newPage();
  const base = new URL(BASE);
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol !== "data:" && url.host !== base.host) report.external.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  // a Content-Security-Policy violation is an error too (the page would break quietly)
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
  });
  page.on("framenavigated", (f) => { if (f === page.mainFrame()) report.reloads += 1; });

  await page.goto(new URL("/cockpit", base).href);
  await page.waitForURL(/\/login\?next=%2Fcockpit|\/login\?next=\/cockpit/); // not signed in
  await page.fill("input[name=username]", USERNAME);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(/\/cockpit$/);
  // the last 7 days (the default, this month, would miss the reports of an hour ago in
  // a test run just after midnight on the 1st)
  await page.waitForSelector("#period-kind option", { state: "attached" });
  await page.selectOption("#period-kind", "7d");
  await page.waitForURL(/\/cockpit\?period=7d$/);

  // the map draws the children's boundaries; the tiles show numbers
  const shapes = "#map path.leaflet-interactive:not(.alert-marker)";
  await page.waitForSelector(shapes);
  report.boundaries = await page.locator(shapes).count();
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="opened"] b')?.textContent || ""));
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="open"] b')?.textContent || ""));
  for (const key of ["opened", "open", "overdue", "handling_rate", "false_alarm_rate"]) {
    report.tiles[key] = await page.locator(`.tile[data-kpi="${key}"] b`).textContent();
  }
  await page.waitForSelector("#chart-trend canvas");
  // 社情民意与议事: the participation figures of the area, and its top groups
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('#participation [data-stat="topics_raised"] b')?.textContent || ""));
  for (const key of ["suggestions_total", "groups", "topics_raised", "topics_resolved", "actions", "actions_completed"]) {
    report.participation[key] = await page.locator(`#participation [data-stat="${key}"] b`).textContent();
  }
  report.participation.groups_list = await page.locator("#participation-groups li").allTextContents();

  // click the street on the map: its communities fill the table and the map
  report.street = await page.locator("#table td.name").first().textContent();
  await page.locator(shapes).first().click();
  await page.waitForFunction((s) => document.querySelector("#crumbs [aria-current]")?.textContent === s, report.street);
  await page.waitForFunction(() => document.querySelectorAll("#table td.name").length > 0);
  report.communities = await page.locator("#table td.name").allTextContents();
  report.crumbs = await page.locator("#crumbs button").allTextContents();
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="opened"] b')?.textContent || ""));

  // an event posted over HTTP raises an alert: it arrives in the stream, no reload
  await page.waitForSelector("#live.on"); // the stream is connected
  report.badge = await page.locator("#live").textContent(); // and the server's clock: 实时 HH:MM
  const before = report.reloads;
  const r = await fetch(new URL("/api/v1/events", base), {
    method: "POST", headers: { "content-type": "application/json" }, body: LIVE_EVENTS,
  });
  report.posted = (await r.json()).accepted;
  await page.waitForSelector("#stream li.live", { timeout: 20000 });
  report.live = await page.locator("#stream li.live").evaluateAll((els) => els.map((e) => ({ scenario: e.dataset.scenario, text: e.textContent })));
  report.markers = await page.locator("#map path.alert-marker").count();
  report.alertLegend = await page.innerText("#legend .legend-alerts");
  report.liveReloads = report.reloads - before;
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: SHOT });

  // English, remembered over a reload
  await page.click("#lang");
  report.english.tile = await page.locator('.tile[data-kpi="handling_rate"] .label').textContent();
  report.english.stream = await page.locator(".stream-panel h2").textContent();
  report.english.participation = await page.locator('#participation [data-stat="suggestions_total"] .label').textContent();
  report.english.lang = await page.evaluate(() => document.documentElement.lang);
  report.url = page.url(); // the address holds the area drilled to (issue 18)
  await page.reload();
  await page.waitForSelector('.tile[data-kpi="handling_rate"] .label');
  report.remembered = await page.locator('.tile[data-kpi="handling_rate"] .label').textContent();
  await page.waitForSelector("#crumbs [aria-current]");
  report.reloadedAt = await page.locator("#crumbs [aria-current]").textContent();

  // a tile opens the cases behind it
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="opened"] b')?.textContent || ""));
  await page.click('.tile[data-kpi="opened"]');
  await page.waitForSelector("#cases:not([hidden]) #cases-list li.case");
  report.cases = await page.locator("#cases-list li.case").count();
  report.caseTitles = await page.locator("#cases-list li.case .title").allTextContents();
  report.caseStates = await page.locator("#cases-list li.case .state").allTextContents();
  await page.locator("#cases-list li.case").first().click();
  await page.waitForSelector("#case-detail:not([hidden]) ol li");
  report.detail = await page.locator("#case-detail h3").textContent();
  // still in English: the timeline names each line and state (GET /api/v1/meta)
  report.timeline = await page.locator("#case-detail ol li span").allTextContents();
  report.who = await page.locator("#who").textContent();
  await page.click("#cases-close");
  await page.click("#lang"); // and back in Chinese
  await page.waitForFunction(() => document.documentElement.lang === "zh-CN");
  report.whoZh = await page.locator("#who").textContent();
  report.tableHead = await page.locator("#table thead th").allTextContents();
  report.tableTitle = await page.locator("#table-title").textContent();
  // drilled into a community, the live alerts are that community's only (issue 18)
  // (the reload above kept the street: the address holds it)
  await page.waitForFunction(() => document.querySelectorAll("#table td.name").length > 0);
  await page.locator("#table td.name", { hasText: "长征桥社区" }).first().click();
  await page.waitForFunction(() => document.querySelector("#crumbs [aria-current]")?.textContent === "长征桥社区");
  await page.waitForSelector("#stream li[data-area]");
  report.communityStream = await page.locator("#stream li[data-area]").evaluateAll((els) => els.map((e) => e.dataset.area));
  // a leader on a phone: the same page, nothing wider than the screen
  await page.setViewportSize({ width: 390, height: 844 });
  report.phoneWidth = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
