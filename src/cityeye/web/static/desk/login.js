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
      const body = await r.json();
      if (!r.ok) throw new Error(body.detail || r.status);
      const next = new URLSearchParams(location.search).get("next");
      const HOME = { handler: "/desk", dispatcher: "/desk", leader: "/cockpit", admin: "/cockpit", resident: "/portal" };
      location.assign(landing(next, HOME[body.user.role] || "/"));
    } catch (e) {
      error.textContent = "登录失败 Sign-in failed: " + e.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
})();
