// Sign-in: the API sets the session cookie; then on to the page the person came for.
"use strict";
(function () {
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
      const home = body.user.role === "handler" ? "/desk" : "/";
      // only a path of this site, never another host
      location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : home);
    } catch (e) {
      error.textContent = "登录失败 Sign-in failed: " + e.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
})();
