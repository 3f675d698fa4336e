// The signed-in session, for every page: one place for the CSRF value and for what a
// page does when the session is gone. Load it before the page's own script.
"use strict";
window.cityeye = (function () {
  // the CSRF value the sign-in set beside the HttpOnly session cookie; a change
  // (POST, PUT) made with the cookie must send it, so another site cannot
  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)cityeye_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // fetch with the session; signed out (401): to the sign-in page, and back here after
  async function api(path, options = {}) {
    const r = await fetch(path, { credentials: "same-origin", ...options });
    if (r.status === 401) {
      location.assign("/login?next=" + encodeURIComponent(location.pathname));
      return new Promise(() => {}); // the page is leaving: nothing more to do here
    }
    return r;
  }

  return { csrf, api };
})();
