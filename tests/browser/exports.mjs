// Exports in a real browser (issue 18, item 5): the desk's "导出当前列表" pair downloads the
// list as it stands, the cockpit's area table and its case drawer download theirs, as
// the signed-in person (the session cookie), without leaving the page. Saves each file
// under SHOTS and prints a JSON report; tests/unit/test_browser_exports.py opens them.
import { chromium } from "playwright-core";

const { BASE, PASSWORD, CHROMIUM, SHOTS, DISPATCHER, LEADER } = process.env;
const report = { errors: [], files: {}, names: {}, stayed: {}, deskTab: null, drawerCases: null };
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

async function signIn(context, username, next) {
  const page = await context.newPage();
  page.on("pageerror", (e) => report.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
  });
  await page.goto(new URL("/login?next=" + next, BASE).href);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("form#login button");
  await page.waitForURL(new RegExp(next + "$"));
  return page;
}

async function download(page, key, click) {
  const [file] = await Promise.all([page.waitForEvent("download"), click()]);
  const path = SHOTS + "/" + key + "." + (key.endsWith("pdf") ? "pdf" : "xlsx");
  await file.saveAs(path);
  report.files[key] = path;
  report.names[key] = file.suggestedFilename();
  report.stayed[key] = page.url();
}

try {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN", serviceWorkers: "block", acceptDownloads: true });
  const desk = await signIn(phone, DISPATCHER, "/desk");
  await desk.waitForSelector(".case");
  report.deskTab = Number(await desk.locator('#tabs [aria-selected="true"] .count').textContent());
  await desk.click("#filters summary");
  await desk.screenshot({ path: SHOTS + "/desk-export.png" });
  await download(desk, "desk_xlsx", () => desk.click('[data-export="xlsx"]'));
  await download(desk, "desk_pdf", () => desk.click('[data-export="pdf"]'));

  const screen = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: "zh-CN", timezoneId: "Asia/Shanghai", acceptDownloads: true });
  const cockpit = await signIn(screen, LEADER, "/cockpit");
  await cockpit.waitForSelector("#table tbody tr");
  await download(cockpit, "table_xlsx", () => cockpit.click('[data-export="table"][data-format="xlsx"]'));
  await cockpit.waitForFunction(() => /^\d+$/.test(document.querySelector('.tile[data-kpi="opened"] b')?.textContent || ""));
  await cockpit.click('.tile[data-kpi="opened"]');
  await cockpit.waitForSelector("#cases:not([hidden]) #cases-list li.case");
  report.drawerCases = await cockpit.locator("#cases-list li.case").count();
  await cockpit.screenshot({ path: SHOTS + "/cockpit-export.png" });
  await download(cockpit, "drawer_pdf", () => cockpit.click('[data-export="cases"][data-format="pdf"]'));
  await download(cockpit, "drawer_xlsx", () => cockpit.click('[data-export="cases"][data-format="xlsx"]'));
} catch (e) {
  report.errors.push(String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
