// Live alerts on the handler desk (issue 15 item 3a), in a real browser holding the
// desk open: a resident report is posted, the grid worker's desk must raise a system
// notification, a chime and a banner within 2 s over the live stream; with no
// EventSource in the browser, polling must still deliver it. Also: the "turn on alerts"
// button asks for permission only when tapped; the banner opens the case; the desk is an
// installable app whose worker keeps the shell (never an API answer) and starts offline.
// Prints a JSON report; tests/unit/test_browser_alerts.py checks it.
import { chromium } from "playwright-core";

const { BASE, USERNAME, PASSWORD, CHROMIUM, SHOTS } = process.env;
const report = { errors: [], external: [] };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const base = new URL(BASE);

// record what the desk raises; the real Notification and oscillator still run
function hook() {
  window.__alerts = { notes: [], tones: 0 };
  const Real = window.Notification;
  if (Real) {
    window.Notification = class extends Real {
      constructor(title, options = {}) {
        super(title, options);
        window.__alerts.notes.push({ title, body: options.body || "", tag: options.tag || "", sticky: !!options.requireInteraction });
      }
    };
  }
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__alerts.tones += 1;
    return start.apply(this, args);
  };
}

function watch(page) {
  page.on("request", (r) => {
    if (new URL(r.url()).host !== base.host) report.external.push(r.url());
  });
  page.on("pageerror", (e) => report.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
  });
}

async function signIn(page) {
  await page.goto(new URL("/desk", base).href);
  await page.waitForURL(/\/login\?next=/);
  await page.fill("input[name=username]", USERNAME);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(/\/desk$/);
}

function report_(id, category, text) {
  // a resident's report: each one opens its own case, routed to the grid's worker
  return { id, kind: "report.citizen", ts: new Date().toISOString(), source: "app", area: "G0001", attrs: { category, text } };
}

function sos(id) {
  // 王阿姨 (S1, living alone) presses her SOS button (SOS1): critical, to her grid worker
  return { id, kind: "button.sos", ts: new Date().toISOString(), source: "gw", device_id: "SOS1" };
}

async function post(event) {
  const r = await fetch(new URL("/api/v1/events", base), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([event]),
  });
  if ((await r.json()).accepted !== 1) throw new Error("event not accepted");
}

async function delivered(page, event) {
  // post, then wait for its notification; the time counts from before the post
  const before = await page.evaluate(() => window.__alerts.notes.length);
  const posted = Date.now();
  await post(event);
  await page.waitForFunction((n) => window.__alerts.notes.length > n, before, { timeout: 15000, polling: 20 });
  const ms = Date.now() - posted;
  await page.waitForSelector(".toast");
  return {
    ms,
    posted, // epoch ms: the test times the SSE stream and the robot from it too
    note: await page.evaluate((n) => window.__alerts.notes[n], before),
    notes: await page.evaluate(() => window.__alerts.notes.length),
    tones: await page.evaluate(() => window.__alerts.tones),
    toast: await page.locator(".toast .open").first().innerText(),
    critical: await page.locator(".toast.critical").count(),
    mode: await page.getAttribute("#live", "data-mode"),
    modeText: await page.textContent("#live"),
  };
}

try {
  // 1. the live stream, with permission asked through the button
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
  await context.addInitScript(hook);
  const page = await context.newPage();
  watch(page);
  await signIn(page);
  await page.waitForSelector("#live[data-mode=live]", { timeout: 10000 });
  report.permissionBefore = await page.evaluate(() => Notification.permission); // not asked on load
  report.button = (await page.isVisible("#alerts")) ? await page.textContent("#alerts") : null;
  await context.grantPermissions(["notifications"], { origin: base.origin }); // what the handler answers
  await page.click("#alerts");
  await page.waitForSelector("#alerts", { state: "hidden" });
  report.permissionAfter = await page.evaluate(() => Notification.permission);
  report.sampleTones = await page.evaluate(() => window.__alerts.tones); // the button plays the chime
  await page.evaluate(() => (window.__alerts.tones = 0));
  report.live = await delivered(page, report_("r-live", "fire", "楼道堆放杂物起火冒烟"));
  report.critical = await delivered(page, sos("sos-1"));
  report.critical.kind = await page.locator(".toast.critical .kind").first().innerText();
  report.audio = await page.evaluate(() => (window.AudioContext ? "AudioContext" : "none"));
  // the queue is refreshed as well (it loads after the alert): both new cases, marked
  await page.waitForFunction(() => document.querySelectorAll(".case.fresh").length >= 2, null, { timeout: 5000 }).catch(() => {});
  report.fresh = await page.locator(".case.fresh").count();
  await page.evaluate(() => document.fonts.ready);
  for (const [w, h] of [[390, 844], [1920, 1080], [3840, 2160]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: `${SHOTS}/desk-alert-${w}.png` });
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click(".toast:not(.critical) .open"); // the banner opens its case
  await page.waitForSelector("#detail:not([hidden]) h2");
  report.opened = { title: await page.textContent("#detail h2"), hash: await page.evaluate(() => location.hash) };
  report.toastsAfterOpen = await page.locator(".toast").count(); // the critical one stays

  // 2. installable: manifest and worker in place; the worker keeps the shell only
  report.manifest = await page.evaluate(() => document.querySelector("link[rel=manifest]").href);
  report.worker = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    return { scope: reg.scope, script: reg.active.scriptURL };
  });
  await page.reload(); // now under the worker: what it keeps
  await page.waitForSelector("#live[data-mode=live]");
  report.controlled = await page.evaluate(() => !!navigator.serviceWorker.controller);
  report.kept = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) {
      for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname);
    }
    return urls;
  });
  await context.setOffline(true); // the network drops: the desk still starts
  await page.reload();
  await page.waitForSelector("#list >> text=离线");
  report.offline = { heading: await page.textContent("header h1"), list: await page.textContent("#list") };
  await context.setOffline(false);
  await page.waitForSelector("#live[data-mode=live]", { timeout: 15000 }); // and comes back by itself
  report.backOnline = await page.locator(".case").count();
  await context.close();

  // 3. no EventSource (an old browser, a proxy that breaks streams): polling delivers
  const polled = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN", permissions: ["notifications"] });
  await polled.addInitScript(() => delete window.EventSource);
  await polled.addInitScript(hook);
  const second = await polled.newPage();
  watch(second);
  await signIn(second);
  await second.waitForSelector("#live[data-mode=poll]", { timeout: 10000 });
  report.buttonWhenGranted = await second.isVisible("#alerts");
  await second.waitForSelector(".case");
  report.polled = await delivered(second, report_("r-poll", "water", "小区水管爆裂漏水"));
  await polled.close();
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
