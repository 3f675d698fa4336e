// The cockpit follows the chosen area and period (issue 18, items 1–3), in a real
// browser at 1920×1080: drill to a community and read what every panel shows — the
// tiles, the table, the trend, the scenario and module charts, the participation row,
// the map and the alert stream — beside what the API gives for that community and for
// its sibling; choose 上月: the figures change and the address holds area and period;
// reload: the same view; back: the view before; a bad link: a notice and the default.
// Prints a JSON report; tests/unit/test_browser_cockpit_period.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, USERNAME, PASSWORD, SHOT, CHROMIUM, COMMUNITY, SIBLING, STREET } = process.env;
const report = { errors: [], external: [] };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

// what the page shows, panel by panel
async function view(page) {
  return page.evaluate(() => {
    const text = (sel) => document.querySelector(sel)?.textContent ?? null;
    const chart = (id) => {
      const c = window.echarts.getInstanceByDom(document.getElementById(id));
      const o = c.getOption();
      const axis = id === "chart-scenario" ? o.yAxis[0] : o.xAxis[0];
      const sum = (s) => s.data.reduce((n, d) => n + (d && typeof d === "object" ? d.value : d || 0), 0);
      return { labels: axis.data, opened: sum(o.series[0]), closed: sum(o.series[1]), rate: o.series[2] ? o.series[2].data : null };
    };
    return {
      url: location.pathname + location.search,
      crumb: text("#crumbs [aria-current]"),
      crumbShown: (() => {
        const r = document.querySelector("#crumbs [aria-current]").getBoundingClientRect();
        const nav = document.getElementById("crumbs").getBoundingClientRect();
        return r.width > 20 && r.right <= nav.right + 1 && r.bottom <= nav.bottom + 1;
      })(),
      period: text("#period"),
      kind: document.getElementById("period-kind").value,
      first: document.getElementById("period-first").value,
      last: document.getElementById("period-last").value,
      tiles: Object.fromEntries([...document.querySelectorAll(".tile")].map((t) => [t.dataset.kpi, t.querySelector("b").textContent])),
      rows: [...document.querySelectorAll("#table tbody td.name")].map((td) => td.textContent),
      head: [...document.querySelectorAll("#table thead th")].map((th) => {
        const r = th.getBoundingClientRect();
        const panel = th.closest(".panel").getBoundingClientRect();
        return { text: th.textContent, inside: r.right <= panel.right + 1 };
      }),
      trend: chart("chart-trend"),
      scenario: chart("chart-scenario"),
      module: chart("chart-module"),
      scenarioTitle: text("#scenario-title"),
      moduleTitle: text("#module-title"),
      participation: Object.fromEntries([...document.querySelectorAll("#participation [data-stat]")].map((d) => [d.dataset.stat, d.querySelector("b").textContent])),
      groups: [...document.querySelectorAll("#participation-groups li[data-group]")].length,
      shapes: document.querySelectorAll("#map path.leaflet-interactive:not(.alert-marker)").length,
      streamTitle: text("#stream-title"),
      streamNote: text("#stream li.note"),
      streamAreas: [...document.querySelectorAll("#stream li[data-area]")].map((li) => li.dataset.area),
      streamTimes: [...document.querySelectorAll("#stream li[data-area] .t")].map((e) => e.textContent),
      notice: document.getElementById("notice").hidden ? null : text("#notice span"),
    };
  });
}

// what the API says for an area and period (the page's own session)
async function truth(page, area, first, last) {
  return page.evaluate(async ({ area, first, last }) => {
    const get = async (p) => (await window.cityeye.api(p)).json();
    const q = new URLSearchParams({ area, first, last }).toString();
    const [kpi, scen, stats, alerts] = await Promise.all([
      get("/api/v1/kpis?" + q),
      get("/api/v1/kpis/breakdown?by=scenario&" + q),
      get("/api/v1/participation/stats?" + q),
      get("/api/v1/alerts?" + q),
    ]);
    return {
      cases: kpi.cases,
      scenarios: scen.rows.filter((r) => r.cases || r.closed || r.alerts).length,
      scenarioCases: scen.rows.reduce((n, r) => n + r.cases, 0),
      suggestions: stats.suggestions_total,
      alertAreas: alerts.items.map((a) => a.area),
    };
  }, { area, first, last });
}

// the page settled: its tiles hold numbers for what the address asks
const settled = (page, opened) => page.waitForFunction(
  (n) => document.querySelector('.tile[data-kpi="opened"] b')?.textContent === n, opened,
);

try {
  const base = new URL(BASE);
  const { person, signIn } = people(browser, base, report);
  const page = await person({ width: 1920, height: 1080 }, { timezoneId: "Asia/Shanghai" });
  await signIn(page, USERNAME, PASSWORD, "/cockpit");
  await page.waitForURL(/\/cockpit$/);
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="opened"] b')?.textContent || ""));
  report.opening = await view(page);

  // pick the community: through its street in the table, then the community
  await page.locator("#table td.name", { hasText: STREET }).first().click();
  await page.waitForFunction((s) => document.querySelector("#crumbs [aria-current]")?.textContent === s, STREET);
  await page.locator("#table td.name", { hasText: COMMUNITY }).first().click();
  await page.waitForFunction((s) => document.querySelector("#crumbs [aria-current]")?.textContent === s, COMMUNITY);
  const code = await page.evaluate(() => new URLSearchParams(location.search).get("area"));
  const sibling = await page.evaluate((name) => {
    const here = new URLSearchParams(location.search).get("area");
    return fetch("/api/v1/areas").then((r) => r.json()).then((all) => {
      const me = all.find((a) => a.code === here);
      return all.find((a) => a.parent === me.parent && a.name === name).code;
    });
  }, SIBLING);
  const [first, last] = await page.evaluate(() => [document.getElementById("period-first").value, document.getElementById("period-last").value]);
  report.truth = { here: await truth(page, code, first, last), sibling: await truth(page, sibling, first, last) };
  await settled(page, String(report.truth.here.cases));
  await page.waitForFunction(() => document.querySelectorAll("#stream li[data-area]").length > 0);
  await page.waitForFunction((n) => /^\d+$/.test(document.querySelector('#participation [data-stat="suggestions_total"] b')?.textContent || "") && document.querySelector('#participation [data-stat="suggestions_total"] b').textContent === n, String(report.truth.here.suggestions));
  report.community = await view(page);
  report.code = code;
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: SHOT });
  // on a 1280×720 screen too, the table's last column stays inside its panel
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.waitForFunction(() => document.querySelector(".table-panel").getBoundingClientRect().right <= 1280);
  report.small = await view(page);
  await page.screenshot({ path: SHOT.replace(/\.png$/, "-1280.png") });
  await page.setViewportSize({ width: 1920, height: 1080 });

  // 上月: the figures change, the address holds both
  await page.selectOption("#period-kind", "last_month");
  await page.waitForFunction(() => /period=last_month/.test(location.search));
  const [f2, l2] = await page.evaluate(() => [document.getElementById("period-first").value, document.getElementById("period-last").value]);
  report.lastTruth = { here: await truth(page, code, f2, l2), sibling: await truth(page, sibling, f2, l2) };
  await settled(page, String(report.lastTruth.here.cases));
  await page.waitForFunction(() => document.querySelector("#stream li.note") && document.querySelectorAll("#stream li[data-area]").length > 0);
  report.lastMonth = await view(page);
  // an alert of the period opens the cases of its scenario and area opened in the period
  await page.locator("#stream li[data-area]").first().click();
  await page.waitForSelector("#cases:not([hidden]) #cases-list li.case");
  report.lastCases = {
    filter: await page.locator("#cases-filter").textContent(),
    count: await page.locator("#cases-list li.case").count(),
  };
  await page.click("#cases-close");

  // reload: the same view
  await page.reload();
  await settled(page, String(report.lastTruth.here.cases));
  await page.waitForFunction(() => document.querySelectorAll("#stream li[data-area]").length > 0);
  report.reloaded = await view(page);

  // back: this month at the community again; back once more: the street
  await page.goBack();
  await settled(page, String(report.truth.here.cases));
  report.back = await view(page);

  // a range in the address, as a shared link would hold it
  await page.goto(new URL(`/cockpit?area=${sibling}&first=${f2}&last=${last}`, base).href);
  const wide = await truth(page, sibling, f2, last);
  await settled(page, String(wide.cases));
  report.range = { view: await view(page), truth: wide };

  // a bad link: a notice, and the defaults instead of a blank page
  await page.goto(new URL("/cockpit?area=NOWHERE&first=2026-13-01&last=soon", base).href);
  await page.waitForFunction(() => !document.getElementById("notice").hidden);
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="opened"] b')?.textContent || ""));
  report.bad = await view(page);
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
