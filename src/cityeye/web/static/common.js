// What every page (the desk, the portal, the cockpit, the council page) shares, in one
// place; load it before the page's own script, which finds it as window.cityeye:
//
//   request, api, csrf  fetch with the session: a change carries the CSRF value, and
//                       api() takes a signed-out person (401) to the sign-in page
//   call                a JSON request for a form: the refused field and the reason in words
//   clock               the server's time and the district's time zone (GET /api/v1/clock)
//   time                times and days as the district reads them, whatever the phone's zone
//   el, bi              the one way to make an element with text (never innerHTML:
//                       what residents type comes back in cases, suggestions, topics)
//   names               the Chinese and English names of the values the API sends
//                       (a state, a severity, a move …), from GET /api/v1/meta, which
//                       serves the enums' own: no page keeps a table of them
//   lang                one language at a time, Chinese unless the person chose
//                       English on a page's 中/EN button (kept for every page)
//   sound               a chime made with WebAudio (no sound file), and the one
//                       place that knows browsers allow sound only after a click
//   pageLinks           the header's links to the staff pages the person may open
//                       (<nav data-pages>, filled at load from GET /api/v1/auth/me)
//   tiles, caseMap      a map's tile layer (when configured); a case's place on a small map
"use strict";
window.cityeye = (function () {
  // ------------------------------------------------------------------ session
  // the CSRF value the sign-in set beside the HttpOnly session cookie; a change
  // (POST, PUT) made with the cookie must send it, so another site cannot
  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)cityeye_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

  // fetch with the session cookie; a change also with its CSRF value (when signed in)
  function request(path, options = {}) {
    const headers = { ...(options.headers || {}) };
    const token = csrf();
    if (token && !SAFE.has((options.method || "GET").toUpperCase())) headers["x-csrf-token"] = token;
    return fetch(path, { credentials: "same-origin", ...options, headers });
  }

  // the same, for a page behind sign-in: signed out (401), to the sign-in page and back
  async function api(path, options = {}) {
    const r = await request(path, options);
    if (r.status === 401) {
      location.assign("/login?next=" + encodeURIComponent(location.pathname));
      return new Promise(() => {}); // the page is leaving: nothing more to do here
    }
    return r;
  }

  // A JSON request as a form needs it: {ok, status, body, field, error}. `field`: the
  // field the server's reason names (`contacts[0].phone: …` → "contacts"), for the form
  // to show `error` next to it; `error`: the reason in the person's language (lang.refusal
  // with the page's `fields` sentences); a network failure is {ok: false, status: 0}.
  async function call(method, path, body, fields = {}) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["content-type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await api(path, options);
    } catch (e) {
      return { ok: false, status: 0, field: "", error: lang.pick("网络不通，请稍后再试。", "Network error; try again shortly.") };
    }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.ok) return { ok: true, status: r.status, body: data };
    // FastAPI: a string ("closes_at: must be after opens_at"), or the body's field errors
    const d = data && data.detail;
    const detail = Array.isArray(d) ? d.map((x) => (x.loc || []).slice(1).join(".") + ": " + x.msg).join("; ") : d;
    const field = typeof detail === "string" ? detail.split(":")[0].trim().split(".")[0].replace(/\[\d+\]$/, "") : "";
    return { ok: false, status: r.status, body: data, field, error: lang.refusal(r.status, detail, fields) };
  }

  // ------------------------------------------------------------------ clock
  // The server's clock: one "now" for the desk's countdowns, the portal's dates and the
  // cockpit's badge. Live time is the server's (GET /api/v1/clock), not the browser's:
  // a phone whose clock is off, or a demo replaying a simulated day at 60×, still counts
  // down from the same time as the engine and the case deadlines.
  //
  // The page fetches the clock once and keeps where it stood and when (by the browser's
  // monotonic performance.now(), so changing the phone's clock moves nothing); "now" is
  // then that time plus the real time since, times the replay's speed. It re-syncs every
  // RESYNC_MS (a speed changed by an admin, the replay's end). Without an answer
  // (offline, an older server) it is the browser's own clock. Times are shown in the
  // district's timezone (the clock's `timezone`), whatever the phone's.
  const clock = (function () {
    const RESYNC_MS = 30000;
    let sync = null; // { at: server ms, mono: performance.now() then, speed, mode, timezone }
    const listeners = [];

    async function refresh() {
      try {
        const sent = performance.now();
        const r = await fetch("/api/v1/clock", { credentials: "same-origin" });
        if (!r.ok) return sync;
        const body = await r.json();
        const mono = (sent + performance.now()) / 2; // the answer was made about halfway
        sync = {
          at: parse(body.now),
          mono,
          speed: body.speed == null ? 1 : body.speed,
          mode: body.mode || (body.speed == null ? "live" : "replay"),
          timezone: body.timezone || undefined,
          body,
        };
        for (const f of listeners) f(sync);
      } catch (e) {
        // offline for now: keep the last sync (or the browser's clock) until the next try
      }
      return sync;
    }

    const ready = refresh();
    setInterval(refresh, RESYNC_MS);

    // the server's time now, in milliseconds since the epoch
    function now() {
      if (!sync) return Date.now();
      return sync.at + (performance.now() - sync.mono) * sync.speed;
    }

    // "live" | "replay" | "replay_ended" (null before the first answer)
    function mode() {
      return sync ? sync.mode : null;
    }

    function speed() {
      return sync ? sync.speed : null;
    }

    // the district's IANA timezone (undefined before the first answer: the browser's)
    function timezone() {
      return sync ? sync.timezone : undefined;
    }

    // call f(sync) after every answer of the server (the badge, a speed shown)
    function onSync(f) {
      listeners.push(f);
      if (sync) f(sync);
    }

    return { ready, refresh, now, mode, speed, timezone, onSync, format, day };
  })();

  // ------------------------------------------------------------------ time
  function parse(iso) {
    // Python writes microseconds (.123456); keep milliseconds, which every browser reads
    return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
  }

  function ms(value) {
    return typeof value === "number" ? value : value instanceof Date ? value.getTime() : parse(value);
  }

  // a time (ISO 8601, ms or a Date) as the district reads it: 2026/10/2 07:30:00 (the
  // options and the locale as toLocaleString's)
  function format(value, options, locale = "zh-CN") {
    return new Date(ms(value)).toLocaleString(locale, { hour12: false, timeZone: clock.timezone(), ...options });
  }

  // the fields of a time on the district's calendar and clock: {year, month, day, hour, minute}
  function fields(value) {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: clock.timezone(), hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    }).formatToParts(new Date(ms(value)));
    const part = (type) => parts.find((p) => p.type === type).value;
    return { year: part("year"), month: part("month"), day: part("day"), hour: part("hour"), minute: part("minute") };
  }

  // the district's calendar day of a time (default now): "2026-10-02"
  function day(value) {
    const f = fields(value == null ? clock.now() : value);
    return f.year + "-" + f.month + "-" + f.day;
  }

  const MINUTES = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
  const time = {
    full: (v) => (v ? format(v) : ""), // 2026/11/23 08:00:00 (a timeline's line)
    minutes: (v) => (v ? format(v, MINUTES) : ""), // 2026/11/23 08:00
    short: (v, locale) => (v ? format(v, { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }, locale) : ""), // 11/23 08:00
    hm: (v) => (v ? format(v, { hour: "2-digit", minute: "2-digit" }) : ""), // 08:00
    day,
    // a calendar day n days on (or back): addDays("2026-10-02", -29) is "2026-09-03"
    addDays(value, n) {
      const [y, m, d] = value.split("-").map(Number);
      return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
    },
    // a datetime-local field's value for a time, on the district's clock: 2026-11-23T19:00
    input(value) {
      const f = fields(value);
      return f.year + "-" + f.month + "-" + f.day + "T" + f.hour + ":" + f.minute;
    },
    // what a datetime-local field says, read on the district's clock, as ISO 8601 (UTC)
    fromInput(value) {
      if (!value) return null;
      const [d, t] = value.split("T");
      const [y, mo, da] = d.split("-").map(Number);
      const [h, mi] = t.split(":").map(Number);
      const wall = Date.UTC(y, mo - 1, da, h, mi);
      // the zone's offset at that moment: where the wall time lands, moved back by it
      // (twice, for a day whose offset changes between the guess and the answer)
      let at = wall;
      for (let i = 0; i < 2; i++) {
        const f = fields(at);
        const seen = Date.UTC(+f.year, +f.month - 1, +f.day, +f.hour, +f.minute);
        at = wall - (seen - at);
      }
      return new Date(at).toISOString();
    },
  };

  // ------------------------------------------------------------------ elements
  // an element with text (never innerHTML) and a class
  function el(tag, content, cls) {
    const e = document.createElement(tag);
    if (content !== undefined && content !== null) e.textContent = content;
    if (cls) e.className = cls;
    return e;
  }

  // "中文 English": the Chinese first, the English in a span of its own
  // a label in both languages, of which the page shows one (lang, base.css)
  function bi(tag, zh, en, cls) {
    const e = el(tag, "", cls);
    if (!en) {
      e.textContent = zh;
      return e;
    }
    const z = el("span", zh);
    z.lang = "zh-CN";
    const s = el("span", en);
    s.lang = "en";
    e.append(z, s);
    return e;
  }

  // ------------------------------------------------------------------ language
  // One language at a time: Chinese by default, English once the person presses a
  // page's 中/EN button (any element with data-lang-toggle), remembered in this browser
  // for every page. Templates and bi() write a label as
  // <span lang="zh-CN">中文</span><span lang="en">English</span>; base.css shows the
  // spans of the chosen language only. What a script writes itself it writes in
  // lang.pick(zh, en), and redraws on lang.onChange.
  const lang = (function () {
    const KEY = "cityeye.lang";
    const OLD_KEYS = ["cityeye.cockpit.lang"]; // the cockpit's own switch, before this one
    const listeners = [];
    let current = "zh";
    try {
      const kept = localStorage.getItem(KEY) || OLD_KEYS.map((k) => localStorage.getItem(k)).find(Boolean);
      current = kept === "en" ? "en" : "zh";
    } catch (e) {
      // storage refused (a private window): Chinese, for this page
    }

    function apply() {
      const root = document.documentElement;
      root.dataset.lang = current;
      root.lang = current === "en" ? "en" : "zh-CN";
      // what cannot hold two spans (a placeholder, a <select>'s option) carries both
      // words as data-zh / data-en and gets the chosen one
      for (const e of document.querySelectorAll("[data-zh][data-en]")) {
        const words = current === "en" ? e.dataset.en : e.dataset.zh;
        if (e.tagName === "INPUT" || e.tagName === "TEXTAREA") e.placeholder = words;
        else e.textContent = words;
      }
      for (const b of document.querySelectorAll("[data-lang-toggle]")) {
        b.textContent = current === "en" ? "中文" : "EN"; // its own name is what it says
        b.removeAttribute("aria-label");
        b.title = current === "en" ? "切换到中文" : "Switch to English";
        b.lang = current === "en" ? "zh-CN" : "en"; // it names the other language
        b.classList.add("lang-toggle");
      }
    }

    function set(value) {
      current = value === "en" ? "en" : "zh";
      try {
        localStorage.setItem(KEY, current);
      } catch (e) {
        // not kept: this page still switches
      }
      apply();
      for (const f of listeners) f(current);
    }

    document.documentElement.dataset.lang = current; // before the first paint: no flash
    function wire() {
      apply();
      for (const b of document.querySelectorAll("[data-lang-toggle]")) {
        if (b.dataset.wired) continue;
        b.dataset.wired = "1";
        b.addEventListener("click", () => set(current === "en" ? "zh" : "en"));
      }
    }
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
    else wire();

    const pick = (zh, en) => (current === "en" && en ? en : zh);

    // Why the server refused, said in the chosen language in a person's words. The
    // server's own reason ("lat: the pin is outside …") is English and names a field:
    // in English it is shown as it is; in Chinese a sentence for its kind of refusal,
    // or for its field when the page knows one (`fields`: {field: [zh, en]}).
    const REFUSED = {
      400: ["请求有误，请刷新页面再试。", "The request was not understood; reload and try again."],
      401: ["请重新登录。", "Sign in again."],
      403: ["你没有这一步的权限。", "You may not do this."],
      404: ["找不到了，可能已被删除或不在你的范围内。", "Not found, or not in your areas."],
      409: ["现在不能这样做：已经做过了，或前一步还没完成。", "Not possible now: done already, or an earlier step is not done."],
      413: ["文件太大了。", "The file is too large."],
      422: ["填写的内容不完整或不对，请检查后再试。", "Something entered is missing or wrong."],
      429: ["操作太频繁，请稍后再试。", "Too many at once; try again shortly."],
    };
    // what a page that takes photos says when the server refuses one (field "photo")
    const NOT_A_PHOTO = ["这不是可用的照片（支持 JPEG、PNG、WebP，最大 10 MB）。", "Not a usable photo (JPEG, PNG or WebP, up to 10 MB)."];
    function refusal(status, detail, fields = {}) {
      const field = typeof detail === "string" ? detail.split(":")[0].trim() : "";
      if (fields[field]) return pick(fields[field][0], fields[field][1]);
      if (current === "en" && typeof detail === "string" && detail) return detail;
      const known = REFUSED[status] || ["服务器出错了，请稍后再试。", "The server failed; try again shortly."];
      return pick(known[0], known[1]);
    }

    return {
      get: () => current,
      set,
      en: () => current === "en",
      pick,
      refusal,
      NOT_A_PHOTO,
      onChange: (f) => listeners.push(f),
      wire,
    };
  })();

  // ------------------------------------------------------------------ names
  // GET /api/v1/meta, once per page: {group: {value: {zh, en}}}. A page awaits
  // names.load() before it shows anything named; until then, or if the answer never
  // came (it is asked again at the next load()), a value is shown as itself.
  const names = (function () {
    let groups = null;
    let loading = null;

    function load() {
      if (groups) return Promise.resolve(groups);
      if (!loading) {
        loading = fetch("/api/v1/meta", { credentials: "same-origin" })
          .then((r) => (r.ok ? r.json() : null))
          .catch(() => null)
          .then((body) => {
            groups = body;
            loading = null;
            return body;
          });
      }
      return loading;
    }

    // {zh, en} of `value` in `group` (or the first of several groups that has it)
    function find(group, value) {
      for (const g of Array.isArray(group) ? group : [group]) {
        const found = groups && groups[g] && Object.hasOwn(groups[g], value) ? groups[g][value] : null;
        if (found) return found;
      }
      return null;
    }

    const raw = (value) => (value === undefined || value === null ? "" : String(value));
    const zh = (group, value) => (find(group, value) || { zh: raw(value) }).zh;
    const en = (group, value) => (find(group, value) || { en: raw(value) }).en;
    // the name as the page shows it: 受理, or Accept once the person chose English
    const shown = (group, value) => (lang.en() ? en(group, value) : zh(group, value));
    // "受理 Accept": both at once, for what cannot switch (a <select>'s options, a title)
    function both(group, value) {
      const n = find(group, value);
      return n ? n.zh + " " + n.en : raw(value);
    }
    // [[value, {zh, en}], …] in the enum's order (a picker's options, the six steps)
    const entries = (group) => Object.entries((groups && groups[group]) || {});

    return { load, find, zh, en, shown, both, entries, TIMELINE: ["actions", "notes", "records"] };
  })();
  names.load();

  // ------------------------------------------------------------------ map tiles
  // A tile layer under a page's map when the server names one (CITYEYE_TILES: an
  // intranet tile server or 天地图, as the page's data-tiles); none by default, so the
  // maps draw the areas' outlines alone and work offline.
  function tiles(map) {
    const url = document.body.dataset.tiles;
    if (url && window.L) L.tileLayer(url, { maxZoom: 19 }).addTo(map);
  }

  // ------------------------------------------------------------------ sound
  // A chime made here with WebAudio: no sound file to ship or to fetch. A browser lets a
  // page make no sound until it has had a click or a key (autoplay policy), and nothing
  // gets round that: a page calls sound.unlock() on its first one (pointerdown,
  // keydown); sound.ready() says whether a chime would now be heard, and onChange(f)
  // hears when that changes (the cockpit's button says so).
  const sound = (function () {
    let audio = null;
    const listeners = [];
    function unlock() {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      if (!audio) {
        audio = new Context();
        audio.onstatechange = () => listeners.forEach((f) => f());
      }
      if (audio.state === "suspended") audio.resume().catch(() => {});
      return audio;
    }
    // notes (Hz) one after another, step seconds apart, each a little shorter
    function chime(notes, step = 0.24, peak = 0.3) {
      const ctx = unlock();
      if (!ctx) return;
      let t = ctx.currentTime + 0.02;
      for (const hz of notes) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = hz;
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(peak, t + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + step - 0.04);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t);
        osc.stop(t + step - 0.02);
        t += step;
      }
    }
    const ready = () => !!audio && audio.state === "running";
    return { unlock, chime, ready, onChange: (f) => listeners.push(f) };
  })();

  // ------------------------------------------------------------------ pages
  // The staff pages a person works on — the desk, the council page, the cockpit, the
  // board, the owners' elections, the assessment office's surveys — as links in a page's header
  // (<nav data-pages>): only those the server says they may open (GET
  // /api/v1/auth/me: `pages`, the role rules' own list), the page in view marked.
  // Filled on its own, so a page's script needs no change for it; nothing shows for
  // someone with one page or none, or signed out, or offline.
  const PAGES = { desk: ["处置端", "Desk"], council: ["民意议事", "Council"], cockpit: ["驾驶舱", "Cockpit"], board: ["晾晒台", "Board"], elections: ["业委会选举", "Elections"], surveys: ["社会评价", "Surveys"] };
  function pageLinks(me) {
    const mine = ((me && me.pages) || []).filter((p) => PAGES[p]);
    for (const nav of document.querySelectorAll("nav[data-pages]")) {
      nav.replaceChildren(...mine.map((p) => {
        const a = bi("a", PAGES[p][0], PAGES[p][1]);
        a.href = "/" + p;
        a.dataset.page = p;
        if (location.pathname === "/" + p) a.setAttribute("aria-current", "page");
        return a;
      }));
      nav.hidden = mine.length < 2;
    }
  }
  function wirePages() {
    if (!document.querySelector("nav[data-pages]")) return;
    request("/api/v1/auth/me")
      .then((r) => (r.ok ? r.json() : null))
      .then(pageLinks)
      .catch(() => {}); // offline: no links, the page works without them
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wirePages);
  else wirePages();

  // A case's place on a small map (the desk's case view, the cockpit's case card): the
  // area's outline and the pin with its name, from a case's `place` (GET
  // /api/v1/cases/{id}); tiles only when configured. Returns the map, or null (and
  // hides `box`) when there is nothing to draw. `colours`: {line, fill, pin}.
  function caseMap(box, place, colours = {}) {
    if (!window.L || !place || (!place.boundary && place.lat == null)) {
      box.hidden = true;
      return null;
    }
    const map = L.map(box, { attributionControl: false, zoomControl: false, zoomSnap: 0.25, dragging: false, scrollWheelZoom: false });
    tiles(map);
    // the view first (a layer added to a map without one has nothing to draw on)
    const outline = place.boundary ? L.geoJSON(place.boundary, { style: { color: colours.line || "#1f6fb2", weight: 2, fillOpacity: colours.fill || 0.08 } }) : null;
    if (outline) map.fitBounds(outline.getBounds(), { padding: [12, 12] });
    else map.setView([place.lat, place.lon], 16);
    if (outline) outline.addTo(map);
    if (place.lat != null && place.lon != null) {
      const pin = colours.pin || "#c0392b";
      const marker = L.circleMarker([place.lat, place.lon], { radius: 8, color: pin, fillColor: pin, fillOpacity: 0.8 }).addTo(map);
      if (place.name) marker.bindTooltip(place.name, { permanent: true, direction: "top" });
    }
    return map;
  }

  // A colour code's score, term by term (a case's `why.score`, GET /api/v1/cases/{id};
  // issue 20): the score, its colour, the bands, and each event with the points it
  // took — why the unit is red. The desk's case view and the cockpit's case card.
  function scoreCard(s) {
    const pick = lang.pick;
    const colour = { red: pick("红码", "red"), yellow: pick("黄码", "yellow"), green: pick("绿码", "green") }[s.colour] || s.colour_zh;
    const box = el("div", null, "score score-" + s.colour);
    box.append(el("div", pick(
      "得分 " + s.score + "（" + colour + "）：基础分 " + s.base + "，低于 " + s.red_below + " 为红码，高于 " + s.green_above + " 为绿码",
      "Score " + s.score + " (" + colour + "): base " + s.base + ", below " + s.red_below + " red, above " + s.green_above + " green",
    )));
    const list = el("ul");
    for (const t of s.terms) {
      const points = (t.points > 0 ? "+" : "") + t.points;
      list.append(el("li", time.minutes(t.ts) + " · " + pick(t.label_zh, t.label_en) + " " + points));
    }
    box.append(list);
    return box;
  }

  return { csrf, request, api, call, clock, time, el, bi, names, lang, tiles, caseMap, scoreCard, sound, pageLinks };
})();
