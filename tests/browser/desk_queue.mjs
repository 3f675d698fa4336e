// The desk's offline queue on a shared phone (issue 14, finding 7): a dispatcher
// writes a progress note offline, the session changes, an admin signs in on the same
// browser — the note must not be sent as the admin; it goes when its owner is back.
// Prints a JSON report; tests/unit/test_attack_web.py checks it and the database.
import { chromium } from "playwright-core";

const { BASE, PASSWORD, CHROMIUM, NOTE } = process.env;
const report = { errors: [], case: null, queued: null, others: null, after_admin: null, after_owner: null };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

async function signIn(page, username) {
  await page.goto(new URL("/login?next=/desk", BASE).href);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(/\/desk$/);
  await page.waitForSelector(".case");
}

async function notedBy(page) {
  // who the timeline says wrote NOTE (the page's own session asks)
  return page.evaluate(
    async ([id, note]) => {
      const c = await (await fetch("/api/v1/cases/" + encodeURIComponent(id))).json();
      return c.timeline.filter((e) => e.note === note).map((e) => e.actor);
    },
    [report.case, NOTE],
  );
}

function watch(page) {
  page.on("pageerror", (e) => report.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
  });
}

try {
  // the desk's service worker is kept out: Chromium's offline emulation does not cover
  // requests a worker lets through, so the "offline" note could reach the server at
  // once (as its owner) and the test would not be testing the queue
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    locale: "zh-CN",
    serviceWorkers: "block",
  });
  const first = await context.newPage();
  watch(first);
  await signIn(first, "disp");
  report.case = (await first.locator(".case .meta").first().textContent()).split(" · ").pop();
  await first.locator(".case").first().click();
  await first.waitForSelector("#detail .move button");
  await context.setOffline(true); // the network drops
  await first.fill("#detail textarea[name=note]", NOTE);
  await first.click("text=记录进展");
  await first.waitForSelector("#detail >> text=已保存");
  report.queued = await first.textContent("#queued");
  await first.close();
  await context.clearCookies(); // the dispatcher's session is gone; someone else takes the phone
  await context.setOffline(false);

  const second = await context.newPage();
  watch(second);
  await signIn(second, "root");
  try {
    await second.waitForSelector("#others:not([hidden])", { timeout: 5000 });
    report.others = await second.textContent("#others");
  } catch (e) {
    report.others = null;
  }
  report.after_admin = await notedBy(second);
  await second.click("#logout");
  await second.waitForURL(/\/login/);

  await signIn(second, "disp"); // the owner is back: the note goes, as theirs
  await second.waitForFunction(() => document.getElementById("queued").textContent === "0");
  const end = Date.now() + 10000;
  while (Date.now() < end && !(report.after_owner = await notedBy(second)).length) {
    await second.waitForTimeout(100);
  }
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
