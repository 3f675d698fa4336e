// The contest board (数字治理赛晾晒台) in a real browser: the public view on a 390×844
// phone, signed out — streets, then communities, in Chinese and in English — and the
// staff view of a district leader on a 1920×1080 wall screen, a row opened to its
// points; the cockpit's header links to the board. October's result is published (the
// test publishes it before the pages open): both views say when, and the leader
// downloads its PDF and their area's 周通报 and 月报. Screenshots in SHOTS.
// Prints a JSON report; tests/unit/test_browser_board.py checks it.
import { chromium } from "playwright-core";

const { BASE, USERNAME, PASSWORD, CHROMIUM, SHOTS } = process.env;
const report = { errors: [], external: [] };
const base = new URL(BASE);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

async function person(viewport) {
  const context = await browser.newContext({ viewport, locale: "zh-CN", acceptDownloads: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => report.errors.push(e.message));
  page.on("request", (r) => {
    if (new URL(r.url()).host !== base.host && !r.url().startsWith("data:")) report.external.push(r.url());
  });
  return page;
}

// what the board shows
function seen(page) {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll("#table tbody tr.unit-row")].map((tr) => ({
      rank: tr.querySelector(".rank").textContent,
      name: tr.querySelector(".name").textContent,
      score: tr.querySelector(".score").textContent,
      status: tr.querySelector(".status").textContent,
    }));
    const chart = window.echarts.getInstanceByDom(document.getElementById("chart"));
    const trend = window.echarts.getInstanceByDom(document.getElementById("trend"));
    return {
      rows,
      view: document.getElementById("view").textContent,
      rules: document.getElementById("rules").textContent,
      tabs: [...document.querySelectorAll("#levels button")].map((b) => b.textContent),
      chartBars: chart ? chart.getOption().series[0].data.length : 0,
      trend: trend ? { rounds: trend.getOption().xAxis[0].data, lines: trend.getOption().series.map((s) => [s.name, s.data]) } : null,
      overflow: document.scrollingElement.scrollWidth - window.innerWidth,
      latin: [...new Set(document.body.innerText.match(/[A-Za-z_]{4,}/g) || [])],
      head: [...document.querySelectorAll("#table thead th")].map((th) => th.textContent),
      signin: !document.getElementById("signin").hidden,
      who: document.getElementById("who").hidden ? null : document.getElementById("who").textContent,
      published: document.getElementById("published").hidden ? null : document.getElementById("published").textContent,
      files: [...document.querySelectorAll("#docs a.file")].filter((a) => a.offsetParent).map((a) => [a.dataset.file, a.textContent]),
    };
  });
}

// a download's file name (as the browser takes it from Content-Disposition), saved
async function download(page, kind) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(`a[data-file="${kind}"]`)]);
  const path = SHOTS + "/" + kind + "." + file.suggestedFilename().split(".").pop();
  await file.saveAs(path);
  return { name: file.suggestedFilename(), path };
}

async function rowsOf(page, n, level) {
  await page.waitForFunction((n) => document.querySelectorAll("#table tbody tr.unit-row").length === n, n);
  await page.waitForSelector(`#chart[data-drawn^="${level} "]`);
  await page.waitForSelector(`#trend[data-drawn^="${level} "]`);
}

try {
  const phone = await person({ width: 390, height: 844 });
  await phone.goto(new URL("/board", base).href);
  await rowsOf(phone, 2, "street");
  await phone.waitForSelector("#published:not([hidden])");
  await phone.evaluate(() => document.fonts.ready);
  report.publicStreets = await seen(phone);
  await phone.click("#levels button:nth-child(2)");
  await rowsOf(phone, 3, "community");
  report.publicCommunities = await seen(phone);
  await phone.screenshot({ path: SHOTS + "/board-phone.png", fullPage: true });
  await phone.click("[data-lang-toggle]");
  await phone.waitForFunction(() => document.documentElement.lang === "en");
  report.publicEnglish = await seen(phone);
  await phone.click("[data-lang-toggle]");

  const wall = await person({ width: 1920, height: 1080 });
  report.wall = wall;
  await wall.goto(new URL("/login?next=/cockpit", base).href);
  await wall.fill("input[name=username]", USERNAME);
  await wall.fill("input[name=password]", PASSWORD);
  await wall.click("form#login button[type=submit]");
  await wall.waitForURL(/\/cockpit$/, { waitUntil: "commit" });
  await wall.waitForSelector('nav[data-pages] a[href="/board"]');
  report.cockpitLink = await wall.evaluate(() => document.querySelector('nav[data-pages] a[href="/board"]').innerText);
  await wall.goto(new URL("/board", base).href);
  await rowsOf(wall, 2, "street");
  await wall.waitForSelector("#result-files:not([hidden]) a[data-file]");
  report.staffStreets = await seen(wall);
  report.downloads = {};
  for (const kind of ["result-pdf", "result-xlsx", "week", "month"]) report.downloads[kind] = await download(wall, kind);
  await wall.click("#levels button:nth-child(2)");
  await rowsOf(wall, 3, "community");
  await wall.click("#table tbody tr.unit-row");
  await wall.waitForSelector("#table tbody tr.detail");
  await wall.evaluate(() => document.fonts.ready);
  report.staff = await seen(wall);
  report.detail = await wall.evaluate(() => document.querySelector("#table tbody tr.detail").innerText);
  await wall.screenshot({ path: SHOTS + "/board-1920.png" });
  // a staff phone: the result's and the area's files wrap inside 390 px
  const pocket = await person({ width: 390, height: 844 });
  await pocket.goto(new URL("/login?next=/board", base).href);
  await pocket.fill("input[name=username]", USERNAME);
  await pocket.fill("input[name=password]", PASSWORD);
  await pocket.click("form#login button[type=submit]");
  await pocket.waitForURL(/\/board$/, { waitUntil: "commit" });
  await rowsOf(pocket, 2, "street");
  await pocket.waitForSelector("#result-files:not([hidden]) a[data-file]");
  await pocket.evaluate(() => document.fonts.ready);
  report.staffPhone = await seen(pocket);
  await pocket.screenshot({ path: SHOTS + "/board-phone-staff.png" });
  await wall.click("#logout");
  await wall.waitForFunction(() => !document.getElementById("signin").hidden && document.querySelector("#chart[data-drawn]"));
  report.signedOut = await seen(wall);
} catch (e) {
  report.errors.push(String(e));
  if (report.wall) {
    report.wallUrl = report.wall.url();
    report.wallText = await report.wall.evaluate(() => document.body.innerText.slice(0, 300));
  }
} finally {
  delete report.wall;
  await browser.close();
}
console.log(JSON.stringify(report));
