// A person in the browser, as every browser test opens one: a page in a fresh context
// (a viewport, Chinese; `options` adds to the context: a time zone, blocked service
// workers …), whose requests outside the server and whose script errors (a
// Content-Security-Policy violation among them) go into the test's report; and signing
// in through the real sign-in page.
export function people(browser, base, report) {
  const seen = { last: null }; // the page in use, to say what it showed if a step fails
  async function person(viewport, options = {}) {
    const context = await browser.newContext({ viewport, locale: "zh-CN", ...options });
    const page = await context.newPage();
    page.on("request", (r) => {
      if (!r.url().startsWith("data:") && !r.url().startsWith("blob:") && new URL(r.url()).host !== base.host) report.external.push(r.url());
    });
    page.on("pageerror", (e) => report.errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text())) report.errors.push("CSP: " + m.text());
    });
    seen.last = page;
    return page;
  }
  async function signIn(page, username, password, next) {
    await page.goto(new URL("/login?next=" + encodeURIComponent(next), base).href);
    await page.fill("input[name=username]", username);
    await page.fill("input[name=password]", password);
    await page.click("form#login button");
    await page.waitForURL(new RegExp(next.replace(/[#?]/g, "\\$&") + "$"));
  }
  return { person, signIn, seen };
}
