// The cockpit on screens from 1280×720 to 3840×2160 (issue 18, items 3 and 4): at each
// size, no two texts of the tiles and headings overlap, no label is cut (wider than its
// box, or clipped by a panel), the table keeps its columns, the charts' text follows the
// screen and the scenario chart names every bar it draws; the map's layers draw what
// GET /api/v1/map/layers sends and the switches are remembered; a critical alert posted
// over HTTP raises the banner and the tone; ?kiosk=1 hides the controls and tours the
// streets. Prints a JSON report; tests/unit/test_browser_cockpit_screen.py checks it.
import { chromium } from "playwright-core";
import { people } from "./people.mjs";

const { BASE, USERNAME, PASSWORD, CHROMIUM, SHOTS, LIVE_EVENTS } = process.env;
const report = { external: [], errors: [], sizes: {}, layers: {}, cue: {}, kiosk: {} };
const SIZES = [[1280, 720], [1920, 1080], [3840, 2160]];
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

// What a street leader would call overlapping or cut, measured in the page.
function measure() {
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
  const shown = (e) => {
    const r = e.getBoundingClientRect();
    const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none" && !e.closest("[hidden], .unfit");
  };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className ? "." + e.className.split(" ")[0] : "") + " «" + (e.textContent || "").trim().slice(0, 24) + "»";
  // the box of an element's text: as wide as the text itself, as tall as the line(s)
  // the layout gives it (a glyph's ascent may reach past a tight line-height: not an overlap)
  const textBox = (e) => {
    const r = document.createRange();
    r.selectNodeContents(e);
    const text = r.getBoundingClientRect();
    const own = e.getBoundingClientRect();
    return { left: text.left, right: text.right, top: own.top, bottom: own.bottom };
  };
  const meets = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;

  // 1. the tiles' and the headings' texts: no two on top of each other
  const heads = [...document.querySelectorAll(
    ".tile .label, .tile b, .tile .sub, .bar h1, .crumbs button, .crumbs .sep, .bar .right > *, .panel-head h2, .panel-head .count, .panel-head button, .participation h2, .pfig b, .pfig .label, .ptop, .pgroups li, .pmore",
  )].filter(shown);
  const overlaps = [];
  for (let i = 0; i < heads.length; i++) {
    for (let j = i + 1; j < heads.length; j++) {
      const a = heads[i], b = heads[j];
      if (a.contains(b) || b.contains(a)) continue;
      if (meets(textBox(a), textBox(b))) overlaps.push(name(a) + " × " + name(b));
    }
  }

  // 2. no label cut: wider than its own box, or clipped sideways by a box around it
  // (clipped below is scrolling, in the lists; in a box that hides its overflow it is cut)
  const texts = [...document.querySelectorAll(
    ".tile .label, .tile b, .tile .sub, .bar h1, .crumbs button, #live, #who, #period, #sound, #kiosk, .panel-head h2, .panel-head .count, #colour, #table th, #table td, .pfig, .ptop, .pgroups li, .pmore, .legend > span, .layer-bar label, .layer-bar .states, .stream li .n, .stream li .m, .stream li .t",
  )].filter(shown);
  const cut = [];
  const fonts = new Set();
  for (const e of texts) {
    fonts.add(parseFloat(getComputedStyle(e).fontSize));
    const s = getComputedStyle(e);
    if (s.display !== "inline" && e.scrollWidth > e.clientWidth + 1) { cut.push(name(e) + " wider than its box"); continue; }
    const box = textBox(e);
    for (let p = e.parentElement; p; p = p.parentElement) {
      const ps = getComputedStyle(p);
      if (ps.overflowX === "visible" && ps.overflowY === "visible") continue;
      const r = p === document.body ? { left: 0, right: innerWidth, top: 0, bottom: innerHeight } : p.getBoundingClientRect();
      const scrolls = ps.overflowY === "auto" || ps.overflowY === "scroll";
      if (scrolls && (box.top < r.top - 1 || box.bottom > r.bottom + 1)) break; // a list scrolled part-way: not cut
      if (box.left < r.left - 1 || box.right > r.right + 1) { cut.push(name(e) + " clipped sideways by " + name(p)); break; }
      if (!scrolls && (box.top < r.top - 1 || box.bottom > r.bottom + 1)) { cut.push(name(e) + " clipped by " + name(p)); break; }
    }
  }
  for (const e of document.querySelectorAll(".leaflet-tooltip")) if (shown(e)) fonts.add(parseFloat(getComputedStyle(e).fontSize));

  // 3. the table and the charts
  const scroll = document.querySelector(".table-panel .scroll");
  const chart = (id) => echarts.getInstanceByDom(document.getElementById(id));
  const chartFonts = [];
  let contain = true;
  for (const id of ["chart-trend", "chart-scenario", "chart-module"]) {
    const o = chart(id).getOption();
    for (const a of [...(o.xAxis || []), ...(o.yAxis || [])]) chartFonts.push(a.axisLabel.fontSize);
    for (const l of o.legend || []) chartFonts.push(l.textStyle.fontSize);
    // each chart's plot leaves room for its labels: contained, or set after their width
    const labelWidth = (o.yAxis || []).filter((a) => a.type === "category").map((a) => a.axisLabel.width)[0];
    contain = contain && o.grid.every((g) => g.containLabel === true || (labelWidth && g.left >= labelWidth));
    // and below the plot, a line of x-axis labels fits inside the chart (it was cut off)
    const rect = chart(id).getModel().getComponent("grid", 0).coordinateSystem.getRect();
    const x = o.xAxis[0];
    if (x.type === "category") contain = contain && rect.y + rect.height + (x.axisLabel.margin || 8) + x.axisLabel.fontSize * 1.2 <= chart(id).getHeight() + 0.5;
  }
  const scen = chart("chart-scenario");
  const so = scen.getOption();
  const yAxis = scen.getModel().getComponent("yAxis", 0).axis;
  const scenarioChart = {
    bars: so.yAxis[0].data.length,
    labels: yAxis.getViewLabels().length,
    fontSize: so.yAxis[0].axisLabel.fontSize,
    plotHeight: scen.getModel().getComponent("grid", 0).coordinateSystem.getRect().height,
    title: so.title && so.title[0] ? so.title[0].text || "" : "",
  };
  return {
    rem, overlaps, cut, textFonts: [...fonts], chartFonts, chartsContainLabels: contain, scenarioChart,
    columns: [...document.querySelectorAll("#table thead th")].filter(shown).length,
    tableFits: scroll.scrollWidth <= scroll.clientWidth + 1,
    pageFits: document.documentElement.scrollWidth <= innerWidth,
  };
}

// after a resize: the root size has changed and the charts carry the new text size
async function settle(page) {
  await page.waitForFunction(() => {
    const fs = Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize));
    return ["chart-trend", "chart-scenario", "chart-module"].every((id) => {
      const o = echarts.getInstanceByDom(document.getElementById(id)).getOption();
      return o.yAxis[0].axisLabel.fontSize === fs;
    });
  });
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  await page.evaluate(() => document.fonts.ready);
}

try {
  const base = new URL(BASE);
  const { person, signIn } = people(browser, base, report);
  const page = await person({ width: 1920, height: 1080 }, { timezoneId: "Asia/Shanghai" });
  await signIn(page, USERNAME, PASSWORD, "/cockpit");
  await page.waitForURL(/\/cockpit$/);
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="opened"] b')?.textContent || ""));
  await page.waitForFunction(() => (echarts.getInstanceByDom(document.getElementById("chart-scenario")).getOption().yAxis[0].data || []).length > 0);
  await page.waitForSelector("#stream li[data-id]");
  // nothing clicked on this page yet: the browser would refuse a sound, and it says so
  report.cue.soundBefore = await page.locator("#sound").textContent();
  report.scenarios = await page.evaluate(async () => {
    const r = await window.cityeye.api("/api/v1/kpis/breakdown?by=scenario&area=330105");
    return (await r.json()).rows.filter((x) => x.cases || x.closed || x.alerts).length;
  });

  // the layers: switch devices, cameras, venues and grids on; what is drawn is what came
  await page.waitForSelector('#layer-bar label[data-layer="devices"] .n');
  for (const layer of ["devices", "cameras", "venues", "grids"]) await page.check(`#layer-bar label[data-layer="${layer}"] input`);
  await page.reload();
  await page.waitForSelector('#layer-bar label[data-layer="devices"] .n');
  report.layers.remembered = await page.evaluate(() => ({
    devices: document.querySelector('#layer-bar label[data-layer="devices"] input').checked,
    cameras: document.querySelector('#layer-bar label[data-layer="cameras"] input').checked,
  }));
  await page.waitForSelector("#map path.layer-point.cameras");
  report.layers.api = await page.evaluate(async () => {
    const body = await (await window.cityeye.api("/api/v1/map/layers?area=330105")).json();
    return { devices: body.devices.length, cameras: body.cameras.length, venues: body.venues.length, elderly: body.elderly.length };
  });
  report.layers.drawn = await page.evaluate(() => ({
    devices: document.querySelectorAll("#map path.layer-point.devices").length,
    cameras: document.querySelectorAll("#map path.layer-point.cameras").length,
    venues: document.querySelectorAll("#map .map-icon.venue").length,
    elderly: document.querySelectorAll("#map path.elderly-bubble").length,
  }));
  report.layers.alarming = await page.locator("#map path.layer-point.alarming").count();
  report.layers.bubbles = await page.locator(".leaflet-tooltip.elderly-count").allTextContents();
  // Leaflet fades a replaced name out over 200 ms: only the names a person can see count
  report.layers.labels = await page.evaluate(() => [...document.querySelectorAll(".leaflet-tooltip.area-label")]
    .filter((e) => getComputedStyle(e).opacity !== "0").map((e) => e.textContent));
  report.layers.mapText = await page.locator("#map").innerText();

  // every size, in Chinese; then 1280 in English (longer words)
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await settle(page);
    report.sizes[width + "x" + height] = await page.evaluate(measure);
    if (width !== 1920) await page.screenshot({ path: SHOTS + "/cockpit-" + width + ".png" });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
  await settle(page);
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  await settle(page);
  report.sizes["1280x720 en"] = await page.evaluate(measure);
  report.englishTimes = await page.locator("#stream li .t").allTextContents();
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "zh-CN");

  // a critical alert arrives: the banner, and the tone (the page has had its clicks)
  await page.waitForSelector("#live.on");
  await page.waitForFunction(() => document.querySelector("#sound").dataset.state === "ready");
  await fetch(new URL("/api/v1/events", base), { method: "POST", headers: { "content-type": "application/json" }, body: LIVE_EVENTS });
  await page.waitForSelector("#cue:not([hidden])", { timeout: 20000 });
  report.cue.hidden = await page.evaluate(() => document.getElementById("cue").hidden);
  report.cue.text = await page.locator("#cue .cue-text").textContent();
  report.cue.sound = await page.evaluate(() => document.getElementById("cue").dataset.sound);

  // kiosk: a wall screen, every 5 s the next stop, a click pauses
  const wall = await page.context().newPage(); // the same session, another tab
  wall.on("pageerror", (e) => report.errors.push("kiosk: " + e.message));
  await wall.goto(new URL("/cockpit?kiosk=1&every=5", base).href);
  await wall.waitForSelector("#kiosk:not([hidden])");
  report.kiosk.badge = await wall.locator("#kiosk").textContent();
  report.kiosk.langHidden = await wall.evaluate(() => getComputedStyle(document.getElementById("lang")).display === "none");
  await wall.waitForFunction(() => document.querySelector("#crumbs [aria-current]")?.textContent === "小河街道", null, { timeout: 20000 });
  report.kiosk.moved = await wall.locator("#crumbs [aria-current]").textContent();
  await wall.mouse.click(5, 300);
  await wall.waitForFunction(() => document.getElementById("kiosk").classList.contains("paused"));
  report.kiosk.paused = await wall.locator("#kiosk").textContent();
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
