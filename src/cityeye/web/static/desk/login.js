// Sign-in: the API sets the session cookie; then on to the page the person came for.
"use strict";
(function () {
  // Where to go after signing in: ``next`` only if it is a page of this site, else
  // ``home``. Checked on the URL as the browser will read it, not on the string: the
  // URL parser drops tabs and newlines, so a slash, a tab and a slash make two slashes,
  // which name another host; backslashes count as slashes; javascript: is no origin.
  function landing(next, home) {
    if (!next || next[0] !== "/") return home;
    let url;
    try {
      url = new URL(next, location.origin);
    } catch (e) {
      return home;
    }
    if (url.origin !== location.origin || !url.pathname.startsWith("/") || url.pathname.startsWith("//")) return home;
    return url.href; // absolute, on this origin: nothing left for the browser to reinterpret
  }

  const pick = window.cityeye.lang.pick;

  // why a sign-in was refused, in the page's language and in a person's words (the
  // API's own detail names fields and is English)
  function refusal(r) {
    if (r.status === 429) {
      const wait = Number(r.headers.get("retry-after")) || 60;
      const min = Math.ceil(wait / 60);
      return pick(`尝试次数过多，请 ${min} 分钟后再试。`, `Too many tries; try again in ${min} min.`);
    }
    if (r.status === 401) return pick("用户名或密码不对，或账号已停用。", "Wrong username or password, or the account is disabled.");
    if (r.status === 422) return pick("请填写用户名和密码。", "Enter your username and password.");
    return pick("登录没有成功，请稍后再试。", "Sign-in did not work; try again shortly.");
  }

  const form = document.getElementById("login");
  const error = form.querySelector(".error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true; // one sign-in at a time
    error.hidden = true;
    try {
      const r = await fetch("/api/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ username: form.username.value, password: form.password.value }),
      });
      if (!r.ok) throw new Error(refusal(r));
      const body = await r.json();
      const next = new URLSearchParams(location.search).get("next");
      const HOME = { handler: "/desk", dispatcher: "/desk", leader: "/cockpit", admin: "/cockpit", resident: "/portal" };
      location.assign(landing(next, HOME[body.user.role] || "/"));
    } catch (e) {
      // a refusal in the page's language; a network failure says so
      error.textContent = e.message && !(e instanceof TypeError) ? e.message : pick("连不上服务器，请稍后再试。", "Cannot reach the server; try again shortly.");
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
})();
