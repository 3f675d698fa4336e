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
      const HOME = { handler: "/desk", dispatcher: "/desk", leader: "/cockpit", admin: "/cockpit", resident: "/portal" };
      const home = HOME[body.user.role] || "/";
      // only a path of this site, never another host (two slashes, or a slash and a
      // backslash, at the start name a host)
      const own = next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\");
      location.assign(own ? next : home);
    } catch (e) {
      error.textContent = "登录失败 Sign-in failed: " + e.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
})();
