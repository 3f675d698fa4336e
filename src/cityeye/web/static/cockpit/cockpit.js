// The cockpit (驾驶舱) for the command centre's big screen.
//
// Drill-down district → street → community → grid on a map of GeoJSON boundaries and a
// table of the same children with their KPIs; open alerts as markers and a live alert
// stream (server-sent events); KPI tiles; the trend, per-scenario and per-module charts.
// Every number opens the cases behind it (GET /api/v1/cases with the same filters).
// Every panel follows the chosen area and period (issue 18): 今天, 近7天, 本月, 上月 or a
// range of days, "today" as the server's clock says (static/common.js, GET
// /api/v1/clock); by default the month of the newest case or alert (GET
// /api/v1/kpis/latest), so a demo or last year's database opens on its figures. The
// address holds both (?area=…&period=month, or &first=…&last=…): a view can be
// bookmarked and shared, back and forward move between views, and a bad value falls
// back with a notice. Figures refresh every 10 s.
// The badge says the stream's state and, connected, the server's clock: 实时 (live), 回放
// ×60 (a demo replaying a simulated day) or 回放已结束 · 实时 (its file done, real time).
// Everything comes from this server: no tiles unless a tile URL is configured.
"use strict";
(function () {
  const REFRESH_MS = 10000;
  const KINDS = ["today", "7d", "month", "last_month", "range"];
  const MAX_DAYS = 400; // as the API allows (cityeye.api.district.MAX_KPI_DAYS)
  const COLOUR_KEY = "cityeye.cockpit.colour";
  const OPEN = "reported,dispatched,accepted,in_progress,handled,verified,returned,escalated,reopened";
  const CHILD = { district: "street", street: "community", community: "grid" };
  const SEV = { low: "#3498db", medium: "#f5b041", high: "#e67e22", critical: "#e74c3c" };

  const T = {
    zh: {
      title: "城市眼·云共治 驾驶舱", logout: "退出", map: "辖区地图", children: "下级区域",
      stream: "实时预警", trend: "逐日趋势", by_scenario: "分场景", by_module: "分模块",
      close: "关闭", more: "更多", connecting: "连接中…", live: "实时", offline: "已断开",
      replay: "回放", replay_ended: "回放已结束 · 实时",
      handling_rate: "处置率", on_time_rate: "按期办结率", co_governance_rate: "共治率",
      satisfaction: "满意率", false_alarm_rate: "误报率", open: "在办工单", overdue: "超期工单",
      opened: "新增工单", closed: "办结", due: "应办", name: "区域", alerts: "预警",
      colour_rate: "着色：处置率", colour_cases: "着色：工单数", no_data: "无数据",
      cases: "工单", cases_of: "工单列表", total: "共", items: "件", back: "返回列表",
      timeline: "时间线", no_cases: "没有工单", no_alerts: "暂无预警", opened_on: "上报",
      due_on: "时限",
      state_closed: "已办结", state_open: "在办", day: "日期",
      resolved: "已消警", count_times: "次", speed: "倍速", few: "少", many: "多", open_alerts: "地图上在办预警",
      participation: "社情民意与议事", p_suggestions_total: "期内建议", p_groups: "建议分组",
      p_topics_raised: "议题", p_topics_resolved: "已决议", p_actions: "决议行动",
      p_actions_completed: "已完成行动", p_top: "热点建议", p_none: "暂无建议", p_more: "详情",
      period_kind: "时段", period_today: "今天", period_7d: "近7天", period_month: "本月",
      period_last_month: "上月", period_range: "自定义范围", period_first: "起始日", period_last: "结束日",
      stream_period: "时段内预警", stream_past: "所选时段不含今天：按时间列出该时段的预警，非实时",
      in_period: "截至期末上报", bad_area: "链接中的区域不存在或不在您的辖区，已显示",
      bad_period: "链接中的时段无效（日期格式 2026-10-01，起始不晚于结束，至多 400 天），已显示默认时段",
      dismiss: "知道了",
    },
    en: {
      title: "cityeye cockpit", logout: "Sign out", map: "Map", children: "Sub-areas",
      stream: "Live alerts", trend: "Day by day", by_scenario: "By scenario",
      by_module: "By module", close: "Close", more: "More", connecting: "Connecting…",
      live: "Live", offline: "Disconnected", replay: "Replay", replay_ended: "Replay ended · live",
      handling_rate: "Handling rate", on_time_rate: "On-time rate",
      co_governance_rate: "Co-governance rate", satisfaction: "Satisfaction",
      false_alarm_rate: "False-alarm rate", open: "Open cases", overdue: "Overdue",
      opened: "New cases", closed: "Closed", due: "Due", name: "Area", alerts: "Alerts",
      colour_rate: "Colour: handling rate", colour_cases: "Colour: cases", no_data: "No data",
      cases: "Cases", cases_of: "Cases", total: "", items: "in all", back: "Back to the list",
      timeline: "Timeline", no_cases: "No cases", no_alerts: "No alerts yet", opened_on: "Reported",
      due_on: "Due",
      state_closed: "Closed", state_open: "Open",
      day: "Day",
      resolved: "resolved", count_times: "×", speed: "speed", few: "few", many: "many", open_alerts: "open alerts on the map:",
      participation: "Participation", p_suggestions_total: "Suggestions in the period",
      p_groups: "Suggestion groups", p_topics_raised: "Topics raised",
      p_topics_resolved: "Topics resolved", p_actions: "Actions",
      p_actions_completed: "Actions completed", p_top: "Top suggestion groups",
      p_none: "No suggestions yet", p_more: "Details",
      period_kind: "Period", period_today: "Today", period_7d: "Last 7 days", period_month: "This month",
      period_last_month: "Last month", period_range: "Date range", period_first: "From", period_last: "To",
      stream_period: "Alerts in the period", stream_past: "The period does not include today: its alerts, newest first, not live",
      in_period: "reported by the period's end", bad_area: "The link's area does not exist or is not yours; showing",
      bad_period: "The link's period is not valid (dates like 2026-10-01, first not after last, at most 400 days); showing the default period",
      dismiss: "OK",
    },
  };

  const TILES = [
    { key: "handling_rate", rate: true, num: "closed", den: "due", cases: "closed" },
    { key: "on_time_rate", rate: true, num: "on_time", den: "closed", cases: "closed" },
    { key: "co_governance_rate", rate: true, num: "co_governed", den: "closed", cases: "closed" },
    { key: "satisfaction", rate: true, num: "satisfied", den: "rated", cases: "closed" },
    { key: "false_alarm_rate", rate: true, num: "dismissed", den: "alerts", cases: "dismissed", lowGood: true },
    { key: "opened", count: "cases", cases: "opened" },
    { key: "open", cases: "open" },
    { key: "overdue", cases: "overdue", alarm: true },
  ];

  const state = {
    lang: window.cityeye.lang.get(), // the one switch every page shares (common.js)
    colour: localStorage.getItem(COLOUR_KEY) === "cases" ? "cases" : "rate",
    me: null, areas: {}, kids: {}, root: null, area: null,
    scenarios: {}, first: null, last: null, gen: 0,
    kind: null, range: null, dataMonth: null, notices: [],
    kpi: null, open: null, overdue: null, rows: {}, trend: null, byScenario: null,
    alerts: new Map(), stream: [], filter: null, page: 1, timer: null, participation: null,
  };
  const $ = (id) => document.getElementById(id);
  const t = (key) => T[state.lang][key] ?? T.zh[key] ?? key;

  // ------------------------------------------------------------------ helpers
  // static/common.js: the session, the server's time and timezone, elements with text
  // (never innerHTML), and the names of severities, modules, states, moves, roles and
  // area levels (GET /api/v1/meta: the server's, no table of our own)
  const { api, clock, time, el, names } = window.cityeye;
  // a value's name in the page's language: 紧急 / critical
  const name = (group, value) => (state.lang === "en" ? names.en(group, value) : names.zh(group, value));

  async function json(path) {
    const r = await api(path);
    if (!r.ok) throw new Error(path + ": " + r.status);
    return r.json();
  }

  function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, v);
    return u.toString();
  }

  const pct = (r) => (r === null || r === undefined ? "—" : (r * 100).toFixed(1) + "%");
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // a day as nobody can misread it: 10-02 in Chinese, "2 Oct" in English (never "02/10")
  function dayLabel(day) {
    if (state.lang !== "en") return day.slice(5);
    const [, m, d] = day.split("-").map(Number);
    return d + " " + MONTHS[m - 1];
  }
  function when(iso) {
    // in the district's timezone
    return state.lang === "en" ? dayLabel(time.day(iso)) + " " + time.hm(iso) : time.short(iso, "zh-CN");
  }
  function rateClass(r, lowGood) {
    if (r === null || r === undefined) return "";
    if (lowGood) return r <= 0.2 ? "good" : r <= 0.5 ? "warn" : "bad";
    return r >= 0.9 ? "good" : r >= 0.75 ? "warn" : "bad";
  }
  const areaName = (code) => (state.areas[code] ? state.areas[code].name : code || "");
  function scenarioName(id) {
    const s = state.scenarios[id];
    if (!s) return id || "";
    return state.lang === "en" ? s.name_en || s.name_zh : s.name_zh;
  }
  function within(code, root) {
    for (let c = code; c; c = state.areas[c] && state.areas[c].parent) if (c === root) return true;
    return false;
  }
  const period = () => ({ first: state.first, last: state.last });

  // ------------------------------------------------------------------ language
  function applyLang() {
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    if (state.me) $("who").textContent = state.me.display_name + " (" + name("user_roles", state.me.role) + ")";
    setLive(state.liveState || "connecting");
    crumbs();
    showPeriod();
    showNotices();
    renderTiles();
    renderTable();
    styleMap();
    legend();
    renderCharts();
    renderStream();
    renderParticipation();
    layers.relabel();
    // the drawer's list again in the new language; an open case card redraws itself
    if (!$("cases").hidden && state.filter && $("case-detail").hidden) showCases(state.filter, false);
  }

  window.cityeye.lang.onChange((chosen) => {
    state.lang = chosen;
    applyLang();
  });
  $("colour").addEventListener("click", () => {
    state.colour = mode() === "rate" ? "cases" : "rate";
    localStorage.setItem(COLOUR_KEY, state.colour);
    styleMap();
    legend();
  });
  $("logout").addEventListener("click", async (ev) => {
    ev.preventDefault();
    await api("/api/v1/auth/logout", { method: "POST" });
    location.assign("/login?next=/cockpit");
  });

  function setLive(s) {
    state.liveState = s;
    $("live").textContent = badge();
    $("live").className = "live" + (s === "live" ? " on" : "");
    $("live").dataset.mode = clock.mode() || "";
  }

  // the stream's state; connected, what the server's clock is doing, and its time
  function badge() {
    const s = state.liveState || "connecting";
    if (s !== "live") return t(s);
    const mode = clock.mode();
    const words = mode === "replay" ? t("replay") + " ×" + clock.speed() : t(mode === "replay_ended" ? "replay_ended" : "live");
    return words + " " + clock.format(clock.now(), { hour: "2-digit", minute: "2-digit" });
  }
  setInterval(() => setLive(state.liveState || "connecting"), 1000);
  clock.onSync(() => setLive(state.liveState || "connecting"));

  // ------------------------------------------------------------------ period
  // the last day of a month ("2026-10" → "2026-10-31")
  function monthEnd(ym) {
    const [y, m] = ym.split("-").map(Number);
    return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  }
  const DAY = /^\d{4}-\d{2}-\d{2}$/;
  const isDay = (v) => typeof v === "string" && DAY.test(v) && time.addDays(v, 0) === v;
  const span = (first, last) => (Date.parse(last) - Date.parse(first)) / 86400000 + 1;

  // the days of the chosen period, "today" by the server's clock (a replay's): a
  // relative one (本月) moves on with the clock; the default is the month of the newest
  // case or alert, to today when that is this month
  async function loadClock() {
    await clock.ready; // fetched once, re-synced by static/common.js
    const today = clock.day(); // the district's day by the server's clock
    const thisMonth = today.slice(0, 7);
    let kind = state.kind;
    if (kind === null) kind = !state.dataMonth || state.dataMonth === thisMonth ? "month" : "data";
    state.shown = kind;
    if (kind === "today") [state.first, state.last] = [today, today];
    else if (kind === "7d") [state.first, state.last] = [time.addDays(today, -6), today];
    else if (kind === "month") [state.first, state.last] = [thisMonth + "-01", today];
    else if (kind === "last_month") {
      const prev = time.addDays(thisMonth + "-01", -1).slice(0, 7);
      [state.first, state.last] = [prev + "-01", monthEnd(prev)];
    } else if (kind === "range") [state.first, state.last] = state.range;
    else [state.first, state.last] = [state.dataMonth + "-01", monthEnd(state.dataMonth)];
  }

  // whether the period holds today: the stream is then live, else the period's alerts
  const current = () => !state.last || state.last >= clock.day();

  function showPeriod() {
    const speed = clock.mode() === "replay" ? " · " + t("speed") + " ×" + clock.speed() : "";
    // the dates stay for the record but are not shown (the picker shows them; the bar
    // has no room for them twice at 1920); a replay's speed is shown
    $("period").replaceChildren(el("span", state.first ? state.first + " — " + state.last : "", "dates"), el("span", state.first ? speed : "", "speed"));
    // (every refresh comes here: the options are made once per language, and a field
    // being typed in is left alone)
    const kind = $("period-kind");
    if (kind.dataset.lang !== state.lang) {
      kind.replaceChildren();
      for (const k of KINDS) {
        const o = el("option", t("period_" + k));
        o.value = k;
        kind.append(o);
      }
      kind.dataset.lang = state.lang;
    }
    kind.value = !state.shown || state.shown === "data" ? "range" : state.shown;
    for (const [id, day] of [["period-first", state.first], ["period-last", state.last]]) {
      if (document.activeElement !== $(id)) $(id).value = day || "";
    }
    kind.setAttribute("aria-label", t("period_kind"));
    $("period-first").setAttribute("aria-label", t("period_first"));
    $("period-last").setAttribute("aria-label", t("period_last"));
  }

  function choosePeriod(kind, range) {
    state.kind = kind;
    state.range = range || null;
    writeUrl();
    reload();
  }
  $("period-pick").addEventListener("submit", (ev) => ev.preventDefault());
  $("period-kind").addEventListener("change", (ev) => {
    const kind = ev.target.value;
    if (kind === "range") choosePeriod("range", [state.first, state.last]);
    else choosePeriod(kind);
  });
  for (const id of ["period-first", "period-last"]) {
    $(id).addEventListener("change", () => {
      let [first, last] = [$("period-first").value, $("period-last").value];
      if (!isDay(first) || !isDay(last)) return; // half typed
      if (last < first) [first, last] = [last, first];
      if (span(first, last) > MAX_DAYS) first = time.addDays(last, 1 - MAX_DAYS);
      choosePeriod("range", [first, last]);
    });
  }

  // ------------------------------------------------------------------ the address
  // ?area=330105001&period=month, or &first=2026-10-01&last=2026-10-31; nothing for the
  // defaults (the user's own area, the data's month)
  function readUrl() {
    const q = new URLSearchParams(location.search);
    const notices = [];
    let area = state.root;
    const asked = q.get("area");
    if (asked) {
      if (state.areas[asked] && within(asked, state.root)) area = asked;
      else notices.push(["bad_area", areaName(state.root)]);
    }
    let kind = null, range = null;
    const p = q.get("period"), first = q.get("first"), last = q.get("last");
    if (first || last) {
      if (isDay(first) && isDay(last) && first <= last && span(first, last) <= MAX_DAYS) [kind, range] = ["range", [first, last]];
      else notices.push(["bad_period", ""]);
    } else if (p) {
      if (KINDS.includes(p) && p !== "range") kind = p;
      else notices.push(["bad_period", ""]);
    }
    return { area, kind, range, notices };
  }

  function writeUrl() {
    const q = {};
    if (state.area !== state.root) q.area = state.area;
    if (state.kind === "range") [q.first, q.last] = state.range;
    else if (state.kind && state.kind !== "data") q.period = state.kind;
    // a wall screen's tour keeps its kiosk settings and does not fill the history
    const now = new URLSearchParams(location.search);
    const touring = now.get("kiosk") === "1";
    for (const k of ["kiosk", "every"]) if (now.has(k)) q[k] = now.get(k);
    const search = qs(q);
    const url = location.pathname + (search ? "?" + search : "");
    if (url === location.pathname + location.search) return;
    if (touring) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
  }

  function applyUrl() {
    const { area, kind, range, notices } = readUrl();
    state.area = area;
    state.kind = kind;
    state.range = range;
    state.notices = notices;
    showNotices();
  }

  // a visible word when the address asked for something it cannot have
  function showNotices() {
    const box = $("notice");
    box.replaceChildren();
    box.hidden = !state.notices.length;
    for (const [key, more] of state.notices) box.append(el("span", (t(key) + " " + more).trim()));
    const ok = el("button", t("dismiss"), "ghost small");
    ok.type = "button";
    ok.addEventListener("click", () => { state.notices = []; showNotices(); });
    if (state.notices.length) box.append(ok);
  }

  window.addEventListener("popstate", () => {
    applyUrl();
    reload();
  });

  // ------------------------------------------------------------------ map
  const map = L.map("map", { attributionControl: false, zoomSnap: 0.25, preferCanvas: false });
  window.cityeye.tiles(map); // only when configured
  const shapesLayer = L.layerGroup().addTo(map);
  const alertLayer = L.layerGroup().addTo(map);
  // the map's layers and their legend (layers.js); the alert markers in a pane above them
  const layers = window.cityeye.layers.attach(map, {
    lang: () => state.lang, bbox, children, areaName, place: (p) => alertPoint(p),
    level: (code) => state.areas[code] && state.areas[code].level,
    parent: (code) => state.areas[code] && state.areas[code].parent,
    boundary: (code) => {
      const g = geometries(code);
      return g.length ? { type: "GeometryCollection", geometries: g } : null;
    },
  });
  const screen = window.cityeye.screen; // sizes, kiosk, the critical-alert cue (screen.js)
  let shapes = {}; // child code → its L.geoJSON layer

  function geometries(code, depth = 0) {
    // the area's own boundary, else its children's (a street drawn as its grids)
    const a = state.areas[code];
    if (!a || depth > 6) return [];
    if (a.boundary) return [a.boundary];
    return (state.kids[code] || []).flatMap((k) => geometries(k, depth + 1));
  }

  function bbox(code) {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    const walk = (c) => {
      if (typeof c[0] === "number") {
        minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]);
        minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
      } else c.forEach(walk);
    };
    for (const g of geometries(code)) if (g.coordinates) walk(g.coordinates);
    return minX === Infinity ? null : { minX, minY, maxX, maxY };
  }

  function children(code) {
    return CHILD[state.areas[code] && state.areas[code].level] ? state.kids[code] || [] : [];
  }

  function drawMap() {
    shapesLayer.clearLayers();
    shapes = {};
    const kids = children(state.area);
    const draw = kids.length ? kids : [state.area]; // a grid: draw itself
    for (const code of draw) {
      const geo = geometries(code);
      if (!geo.length) continue;
      const layer = L.geoJSON({ type: "FeatureCollection", features: geo.map((g) => ({ type: "Feature", properties: { code }, geometry: g })) });
      layer.on("click", () => kids.length && drill(code));
      layer.bindTooltip(tooltip(code), { sticky: true });
      layer.addTo(shapesLayer);
      shapes[code] = layer;
    }
    fitShapes();
    styleMap();
    layers.draw(state.area);
  }

  // the area fills the map: on a drill, and again whenever the map's box changes size
  // (another screen, the layers' legend taking a second line)
  function fitShapes() {
    const bounds = L.featureGroup(Object.values(shapes)).getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], animate: false }); // no animation: a permanent tooltip removed mid-zoom is left behind
  }

  function tooltip(code) {
    // an element, not a string: Leaflet puts a string in as HTML, and names come
    // from the district's configuration
    const k = state.rows[code];
    return el("span", areaName(code) + (k ? " · " + t("handling_rate") + " " + pct(k.handling_rate) + " · " + t("opened") + " " + k.cases : " · " + t("no_data")));
  }

  function mode() {
    // by handling rate unless no sub-area has one yet (nothing due): then by cases
    const rated = Object.values(state.rows).some((r) => r.handling_rate !== null && r.handling_rate !== undefined);
    return state.colour === "rate" && rated ? "rate" : "cases";
  }

  function fill(code) {
    const k = state.rows[code];
    if (mode() === "cases") {
      const peak = Math.max(1, ...Object.values(state.rows).map((r) => r.cases || 0));
      const n = k ? k.cases || 0 : 0;
      if (!n) return "#1c3148";
      const a = 0.25 + 0.75 * (n / peak);
      return "rgba(63,167,255," + a.toFixed(2) + ")";
    }
    if (!k || k.handling_rate === null || k.handling_rate === undefined) return "#1c3148";
    return k.handling_rate >= 0.9 ? "#1e8449" : k.handling_rate >= 0.75 ? "#b7950b" : "#a93226";
  }

  function styleMap() {
    for (const [code, layer] of Object.entries(shapes)) {
      layer.setStyle({ color: "#7fb3e6", weight: 1.5, fillColor: fill(code), fillOpacity: 0.65 });
      layer.setTooltipContent(tooltip(code)); // an open tooltip follows the new figures
    }
  }

  function legend() {
    const box = $("legend");
    box.replaceChildren();
    $("colour").textContent = t(mode() === "rate" ? "colour_rate" : "colour_cases");
    const items = mode() === "cases"
      ? [["rgba(63,167,255,.3)", t("few")], ["rgba(63,167,255,1)", t("many")], ["#1c3148", t("no_data")]]
      : [["#1e8449", "≥90%"], ["#b7950b", "75–90%"], ["#a93226", "<75%"], ["#1c3148", t("no_data")]];
    for (const [c, label] of items) {
      const s = el("span", label);
      const i = el("i");
      i.style.background = c;
      s.prepend(i);
      box.append(s);
    }
    // the alert markers: a circle per alert by its severity, a bigger one with a count
    // for several close together
    const alerts = el("span", t("alerts") + "：", "legend-alerts");
    for (const sev of ["critical", "high", "medium", "low"]) {
      const s = el("span", name("severities", sev));
      const i = el("i", "", "dot");
      i.style.background = SEV[sev];
      s.prepend(i);
      alerts.append(s);
    }
    box.append(alerts);
  }

  function alertPoint(a) {
    const code = a.area && state.areas[a.area] ? a.area : state.area;
    const b = bbox(code) || bbox(state.area);
    if (!b) return null;
    let h = 0;
    for (const ch of a.id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    // spread the alerts of one area around its middle, the same place on every screen
    const jx = ((h % 1000) / 1000 - 0.5) * 0.5, jy = (((h >>> 10) % 1000) / 1000 - 0.5) * 0.5;
    return [b.minY + (b.maxY - b.minY) * (0.5 + jy), b.minX + (b.maxX - b.minX) * (0.5 + jx)];
  }

  // Open alerts on the map, clustered: markers closer than CLUSTER_PX on the screen are
  // drawn as one circle with their count, coloured by the most severe among them (a
  // district's morning has dozens in one community); a click zooms in, or at the last
  // zoom lists their cases. Redrawn on every zoom.
  const CLUSTER_PX = 28;
  const RANK = { low: 0, medium: 1, high: 2, critical: 3 };
  let drawing = 0;

  function markAlert(a) {
    state.alerts.delete(a.id);
    // the open ones now; for a period that is over, the alerts it opened
    if ((!a.resolved_at || !current()) && a.area && within(a.area, state.area)) {
      const at = alertPoint(a);
      if (at) state.alerts.set(a.id, { a, at });
    }
    if (!drawing) drawing = requestAnimationFrame(drawAlerts); // one redraw for a batch
  }

  // a dot's cases: those open now; for a period that is over, those opened in it
  const opened = () => ({ opened_first: state.first, opened_last: state.last });
  const markerCases = () => (current() ? { state: OPEN } : opened());

  function drawAlerts() {
    drawing = 0;
    alertLayer.clearLayers();
    countAlerts();
    const k = screen.rem() / 16; // markers and clusters at the screen's scale (16 px at 1920)
    const cells = new Map();
    for (const item of state.alerts.values()) {
      const p = map.latLngToLayerPoint(item.at);
      const key = Math.floor(p.x / (CLUSTER_PX * k)) + ":" + Math.floor(p.y / (CLUSTER_PX * k));
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(item);
    }
    for (const group of cells.values()) {
      if (group.length === 1) {
        const { a, at } = group[0];
        const m = L.circleMarker(at, { radius: (a.severity === "critical" ? 10 : 8) * k, color: "#fff", weight: 1.5, fillColor: SEV[a.severity] || "#3498db", fillOpacity: 0.95, className: "alert-marker sev-" + a.severity, pane: "alerts" });
        m.bindTooltip(() => el("span", scenarioName(a.scenario) + " · " + name("severities", a.severity) + " · " + areaName(a.area)));
        m.on("click", () => showCases({ scenario: a.scenario, area: a.area, ...markerCases(), label: scenarioName(a.scenario) }));
        m.addTo(alertLayer);
        continue;
      }
      const worst = group.reduce((w, g) => ((RANK[g.a.severity] || 0) > (RANK[w.a.severity] || 0) ? g : w)).a.severity;
      const lat = group.reduce((n, g) => n + g.at[0], 0) / group.length;
      const lon = group.reduce((n, g) => n + g.at[1], 0) / group.length;
      const m = L.circleMarker([lat, lon], { radius: Math.min(22, 10 + 2 * Math.sqrt(group.length)) * k, color: "#fff", weight: 2, fillColor: SEV[worst] || "#3498db", fillOpacity: 0.95, className: "alert-marker alert-cluster sev-" + worst, pane: "alerts" });
      m.bindTooltip(String(group.length), { permanent: true, direction: "center", className: "cluster-count" });
      m.on("click", () => {
        const bounds = L.latLngBounds(group.map((g) => g.at));
        if (map.getZoom() < map.getMaxZoom() - 1 && bounds.getNorthEast().distanceTo(bounds.getSouthWest()) > 5) map.fitBounds(bounds.pad(0.5));
        else showCases({ area: group[0].a.area, ...markerCases(), label: areaName(group[0].a.area) });
      });
      m.addTo(alertLayer);
    }
  }
  map.on("zoomend", drawAlerts);
  screen.onChange(drawAlerts);

  async function loadAlerts() {
    const gen = state.gen;
    const which = current() ? { open: "true" } : period();
    const body = await json("/api/v1/alerts?" + qs({ ...which, area: state.area, per_page: 500 }));
    if (gen !== state.gen) return;
    state.alerts.clear();
    body.items.forEach(markAlert);
    drawAlerts();
  }

  // ------------------------------------------------------------------ drill-down
  function crumbs() {
    const nav = $("crumbs");
    nav.replaceChildren();
    if (!state.area) return;
    const path = [];
    for (let c = state.area; c; c = state.areas[c] && state.areas[c].parent) {
      path.unshift(c);
      if (c === state.root) break;
    }
    path.forEach((code, i) => {
      if (i) nav.append(el("span", "›", "sep"));
      const b = el("button", areaName(code));
      b.type = "button";
      b.dataset.code = code;
      if (code === state.area) b.setAttribute("aria-current", "page");
      else b.addEventListener("click", () => drill(code));
      nav.append(b);
    });
  }

  function drill(code) {
    if (code === state.area) return;
    state.area = code;
    writeUrl();
    reload();
  }

  // everything again for the area and period now chosen (a drill, a period, back/forward)
  async function reload() {
    state.gen += 1;
    const gen = state.gen;
    state.rows = {};
    state.stream = [];
    state.alerts.clear();
    crumbs();
    drawMap();
    renderTable();
    await loadClock().catch(console.warn);
    if (gen !== state.gen) return;
    showPeriod();
    document.dispatchEvent(new CustomEvent("cockpit:view", { detail: { area: state.area, first: state.first, last: state.last } })); // standards.js
    renderStream();
    loadAlerts().catch(console.warn);
    loadStream().catch(console.warn);
    refresh();
  }

  // ------------------------------------------------------------------ KPIs
  // 社情民意与议事: GET /api/v1/participation/stats and the area's largest suggestion
  // groups; apart from the other figures, so a failure here leaves them be
  const P_FIGURES = ["suggestions_total", "groups", "topics_raised", "topics_resolved", "actions", "actions_completed"];
  async function loadParticipation(gen) {
    try {
      const q = qs({ area: state.area, ...period() }); // the area's and the period's
      const [stats, groups] = await Promise.all([
        json("/api/v1/participation/stats?" + q),
        json("/api/v1/participation/groups?" + q),
      ]);
      if (gen !== state.gen) return;
      state.participation = { stats, groups: groups.slice(0, 5) };
    } catch (e) {
      if (gen !== state.gen) return;
      state.participation = null; // not for this role, or not served: dashes
    }
    renderParticipation();
  }

  function renderParticipation() {
    const p = state.participation;
    const figures = $("participation-figures");
    figures.replaceChildren();
    for (const key of P_FIGURES) {
      const d = el("div", null, "pfig");
      d.dataset.stat = key;
      const v = p && p.stats[key] !== undefined ? String(p.stats[key]) : "—";
      d.append(el("b", v), el("span", t("p_" + key), "label"));
      figures.append(d);
    }
    const list = $("participation-groups");
    list.replaceChildren();
    if (p && !p.groups.length) list.append(el("li", t("p_none"), "muted"));
    for (const g of p ? p.groups : []) {
      const li = el("li");
      li.dataset.group = g.id;
      // the chip may be cut: its hover gives the whole title, then the category and where
      li.title = (g.title ? g.title + "\n" : "") + (state.lang === "en" ? g.category.en : g.category.zh) + " · " + g.areas.map((a) => a.name).join(", ");
      li.append(el("b", String(g.count)), el("span", g.label || g.terms.join(" · ")));
      list.append(li);
    }
  }

  async function refresh() {
    const gen = state.gen;
    clearTimeout(state.timer);
    try {
      await loadClock();
      if (gen !== state.gen) return;
      showPeriod();
      loadParticipation(gen);
      const p = period();
      const level = state.areas[state.area].level;
      const by = CHILD[level];
      const caseCount = (f) => json("/api/v1/cases?" + qs({ ...f, ...backlog(p), area: state.area, per_page: 1 })).then((b) => b.total);
      const jobs = [
        json("/api/v1/kpis?" + qs({ area: state.area, ...p })),
        by ? json("/api/v1/kpis/breakdown?" + qs({ by, area: state.area, ...p })) : Promise.resolve({ rows: [] }),
        json("/api/v1/kpis/trend?" + qs({ area: state.area, ...p })),
        caseCount({ state: OPEN }),
        caseCount({ overdue: "true" }),
        json("/api/v1/kpis/breakdown?" + qs({ by: "scenario", area: state.area, ...p })),
      ];
      const [kpi, bd, trend, open, overdue, scen] = await Promise.all(jobs);
      if (gen !== state.gen) return;
      // a new installation (or the demo) has a few days of data in a 30-day window:
      // leave out the empty days before the first one, but show a week at least
      const first = trend.days.findIndex((d) => d.cases || d.closed);
      trend.days = trend.days.slice(Math.max(0, Math.min(first < 0 ? 0 : first, trend.days.length - 7)));
      // no days after today; and today's rate only once something closed: the cases
      // due later today count as due already, so a morning would read 0 % (issue 18)
      const today = clock.day();
      trend.days = trend.days.filter((d) => d.day <= today);
      for (const d of trend.days) if (d.day === today && !d.closed) d.handling_rate = null;
      Object.assign(state, { kpi, trend, open, overdue, byScenario: scen });
      state.rows = Object.fromEntries(bd.rows.map((r) => [r.value, r]));
      renderTiles();
      renderTable();
      styleMap();
      legend();
      renderCharts();
    } catch (e) {
      console.warn("refresh failed", e); // try again at the next beat
    } finally {
      if (gen === state.gen) state.timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  function tileCases(tile) {
    const p = period();
    if (tile.cases === "closed") return { state: "closed", closed_first: p.first, closed_last: p.last, label: t(tile.key) + " · " + t("state_closed") };
    if (tile.cases === "dismissed") return { state: "dismissed", closed_first: p.first, closed_last: p.last, label: t(tile.key) + " · " + name("case_states", "dismissed") };
    if (tile.cases === "opened") return { opened_first: p.first, opened_last: p.last, label: t("opened") };
    if (tile.cases === "open") return { state: OPEN, ...backlog(p), label: t("open") + " · " + t("in_period") };
    return { overdue: "true", ...backlog(p), label: t("overdue") + " · " + t("in_period") };
  }

  // 在办 and 超期 are the backlog: every case reported by the period's end that is still
  // open (or past its deadline) now — this month's view keeps last month's overdue case
  // in sight, where counting only the month's own cases would hide it (our choice)
  function backlog(p) {
    return { opened_last: p.last };
  }

  function renderTiles() {
    const box = $("tiles");
    box.replaceChildren();
    const k = state.kpi;
    for (const tile of TILES) {
      const b = el("button", null, "tile");
      b.type = "button";
      b.dataset.kpi = tile.key;
      let value = "—", sub = "", cls = "";
      if (tile.rate && k) {
        value = pct(k[tile.key]);
        sub = (k[tile.num] ?? 0) + " / " + (k[tile.den] ?? 0);
        cls = rateClass(k[tile.key], tile.lowGood);
      } else if (tile.count && k) {
        value = String(k[tile.count] ?? 0);
        sub = t("closed") + " " + (k.closed ?? 0);
      } else if (tile.key === "open" && state.open !== null) {
        value = String(state.open);
        sub = t("in_period");
      } else if (tile.key === "overdue" && state.overdue !== null) {
        value = String(state.overdue);
        sub = t("in_period");
        cls = state.overdue > 0 ? "bad" : "good";
      }
      if (cls) b.classList.add(cls);
      b.append(el("span", t(tile.key), "label"), el("b", value), el("span", sub, "sub"));
      b.addEventListener("click", () => showCases({ area: state.area, ...tileCases(tile) }));
      box.append(b);
    }
  }

  const COLS = [
    { key: "cases", label: "opened", f: () => ({ opened_first: state.first, opened_last: state.last }) },
    { key: "closed", label: "closed", f: () => ({ state: "closed", closed_first: state.first, closed_last: state.last }) },
    { key: "handling_rate", rate: true, f: () => ({ state: "closed", closed_first: state.first, closed_last: state.last }) },
    { key: "on_time_rate", rate: true, f: () => ({ state: "closed", closed_first: state.first, closed_last: state.last }) },
    { key: "co_governance_rate", rate: true, f: () => ({ state: "closed", closed_first: state.first, closed_last: state.last }) },
    { key: "satisfaction", rate: true, f: () => ({ state: "closed", closed_first: state.first, closed_last: state.last }) },
    { key: "dismissed", state: "dismissed", count: true, f: () => ({ state: "dismissed", closed_first: state.first, closed_last: state.last }) },
  ];

  const SHORT = { cases: "New", handling_rate: "Handled", on_time_rate: "On time", co_governance_rate: "Co-gov.", satisfaction: "Satisfied", dismissed: "False alarm" };
  // a column's heading: a KPI's word, or a case state's name (误报撤销)
  const heading = (c) => (c.state ? name("case_states", c.state) : t(c.label || c.key));

  function renderTable() {
    const kids = state.area ? children(state.area) : [];
    const level = state.area && CHILD[state.areas[state.area].level];
    $("table-title").textContent = t("children") + (level ? " · " + name("area_levels", level) : "");
    const head = el("tr");
    head.append(el("th", t("name")));
    for (const c of COLS) {
      // English headings are long ("Co-governance rate"): the table's own short one, the
      // whole name on hover, so that the eight columns fit a 1280 screen
      const th = el("th", state.lang === "en" && SHORT[c.key] ? SHORT[c.key] : heading(c));
      th.title = heading(c);
      head.append(th);
    }
    $("table").tHead.replaceChildren(head);
    const body = $("table").tBodies[0];
    body.replaceChildren();
    for (const code of kids) {
      const k = state.rows[code];
      const tr = el("tr");
      tr.dataset.code = code;
      const name = el("td", areaName(code), "name");
      name.addEventListener("click", () => drill(code));
      tr.append(name);
      for (const c of COLS) {
        const v = k ? k[c.key] : null;
        const td = el("td", c.rate ? pct(v) : v === null || v === undefined ? "0" : String(v), "num " + (c.rate ? rateClass(v) : ""));
        td.addEventListener("click", () => showCases({ area: code, ...c.f(), label: areaName(code) + " · " + heading(c) }));
        tr.append(td);
      }
      body.append(tr);
    }
    if (!kids.length) {
      const tr = el("tr");
      const td = el("td", t("no_data"), "muted");
      td.colSpan = COLS.length + 1;
      tr.append(td);
      body.append(tr);
    }
  }

  // ------------------------------------------------------------------ charts
  const axis = { axisLine: { lineStyle: { color: "#5d7590" } }, axisLabel: { color: "#9fb3c8" }, splitLine: { lineStyle: { color: "#1f3550" } } };
  const charts = {
    trend: echarts.init($("chart-trend")),
    scenario: echarts.init($("chart-scenario")),
    module: echarts.init($("chart-module")),
  };
  // the panels settle after the tiles and the font arrive: follow their size, not the window's
  const fit = new ResizeObserver(() => {
    Object.values(charts).forEach((c) => c.resize());
    map.invalidateSize();
    fitShapes();
  });
  for (const id of ["chart-trend", "chart-scenario", "chart-module", "map"]) fit.observe($(id));
  screen.onChange(renderCharts); // a new screen size: the charts' text follows

  function renderCharts() {
    const text = { color: "#e6eef7", fontFamily: "cityeye-sans, system-ui, sans-serif" };
    const tooltip = { trigger: "axis", backgroundColor: "#132a44", borderColor: "#2c4a6e", textStyle: { color: "#e6eef7" } };
    const legend = { textStyle: { color: "#c7d5e4" }, top: 0 };
    const days = state.trend ? state.trend.days : [];
    charts.trend.setOption(screen.chart({
      textStyle: text, tooltip, legend, grid: { left: 44, right: 48, top: 30, bottom: 26 },
      xAxis: { type: "category", data: days.map((d) => dayLabel(d.day)), ...axis },
      yAxis: [{ type: "value", minInterval: 1, ...axis }, { type: "value", min: 0, max: 100, axisLabel: { color: "#9fb3c8", formatter: "{value}%" }, splitLine: { show: false } }],
      series: [
        { name: t("opened"), type: "bar", data: days.map((d) => d.cases), itemStyle: { color: "#3fa7ff" } },
        { name: t("closed"), type: "bar", data: days.map((d) => d.closed), itemStyle: { color: "#2ecc71" } },
        // a day with nothing due is a gap in the line, not a curve drawn across it
        { name: t("handling_rate"), type: "line", yAxisIndex: 1, smooth: true, connectNulls: false, showSymbol: true, data: days.map((d) => (d.handling_rate === null ? null : +(d.handling_rate * 100).toFixed(1))), itemStyle: { color: "#f5b041" } },
      ],
    }, $("chart-trend")), true);

    const rows = state.byScenario ? state.byScenario.rows.filter((r) => r.cases || r.closed || r.alerts) : [];
    rows.sort((a, b) => (b.cases || 0) - (a.cases || 0));
    const fits = screen.rows($("chart-scenario"), 12); // as many as show their names
    const top = rows.slice(0, fits).reverse();
    const none = t("no_data");
    const here = " · " + areaName(state.area); // the area the figures are of (issue 18)
    $("scenario-title").textContent = t("by_scenario") + here;
    $("module-title").textContent = t("by_module") + here;
    charts.scenario.setOption(screen.chart({
      textStyle: text, tooltip: { ...tooltip, axisPointer: { type: "shadow" } }, legend,
      title: top.length ? (rows.length > top.length ? { text: screen.top(top.length), right: 0, top: 0, textStyle: { color: "#8da2b8", fontWeight: 400 } } : undefined) : { text: none, left: "center", top: "middle", textStyle: { color: "#8da2b8", fontSize: 14, fontWeight: 400 } },
      grid: { left: 150, right: 20, top: 28, bottom: 22 },
      xAxis: { type: "value", minInterval: 1, ...axis },
      // the name without its module (城市管理·道路积水 → 道路积水): the module has its own chart
      yAxis: { type: "category", data: top.map((r) => scenarioName(r.value).split("·").pop()), ...axis, axisLabel: { color: "#c7d5e4", width: 140, overflow: "truncate" } },
      series: [
        { name: t("opened"), type: "bar", barMaxWidth: 22, data: top.map((r) => ({ value: r.cases, id: r.value })), itemStyle: { color: "#3fa7ff" } },
        { name: t("closed"), type: "bar", barMaxWidth: 22, data: top.map((r) => ({ value: r.closed, id: r.value })), itemStyle: { color: "#2ecc71" } },
      ],
    }, $("chart-scenario")), true);

    const mods = {};
    for (const r of state.byScenario ? state.byScenario.rows : []) {
      const m = state.scenarios[r.value] ? state.scenarios[r.value].module : null;
      if (!m) continue;
      mods[m] = mods[m] || { cases: 0, closed: 0, due: 0 };
      mods[m].cases += r.cases || 0;
      mods[m].closed += r.closed || 0;
      mods[m].due += r.due || 0;
    }
    const mk = names.entries("modules").map(([m]) => m).filter((m) => mods[m]);
    charts.module.setOption(screen.chart({
      textStyle: text, tooltip: { ...tooltip, axisPointer: { type: "shadow" } }, legend,
      title: mk.length ? undefined : { text: none, left: "center", top: "middle", textStyle: { color: "#8da2b8", fontSize: 14, fontWeight: 400 } },
      grid: { left: 44, right: 20, top: 28, bottom: 26 },
      // bars across, the names beside them: "Livelihood services" under a column was cut
      xAxis: { type: "value", minInterval: 1, ...axis },
      yAxis: { type: "category", inverse: true, data: mk.map((m) => name("modules", m)), ...axis },
      series: [
        { name: t("opened"), type: "bar", barMaxWidth: 22, data: mk.map((m) => ({ value: mods[m].cases, id: m })), itemStyle: { color: "#3fa7ff" } },
        { name: t("closed"), type: "bar", barMaxWidth: 22, data: mk.map((m) => ({ value: mods[m].closed, id: m })), itemStyle: { color: "#2ecc71" } },
      ],
    }, $("chart-module")), true);
  }

  function closedOrOpened(seriesIndex) {
    return seriesIndex === 1
      ? { state: "closed", closed_first: state.first, closed_last: state.last }
      : { opened_first: state.first, opened_last: state.last };
  }
  charts.trend.on("click", (p) => {
    const day = state.trend && state.trend.days[p.dataIndex] ? state.trend.days[p.dataIndex].day : null;
    if (!day) return;
    const f = p.seriesIndex === 0 ? { opened_first: day, opened_last: day } : { state: "closed", closed_first: day, closed_last: day };
    showCases({ area: state.area, ...f, label: day + " · " + p.seriesName });
  });
  charts.scenario.on("click", (p) => {
    if (!p.data || !p.data.id) return;
    showCases({ area: state.area, scenario: p.data.id, ...closedOrOpened(p.seriesIndex), label: scenarioName(p.data.id) + " · " + p.seriesName });
  });
  charts.module.on("click", (p) => {
    if (!p.data || !p.data.id) return;
    showCases({ area: state.area, module: p.data.id, ...closedOrOpened(p.seriesIndex), label: name("modules", p.data.id) + " · " + p.seriesName });
  });

  // ------------------------------------------------------------------ live alerts
  // newest change first (an alert's resolution, else its opening), the area's own only
  // (a period that is over: the alerts it opened, newest first, and a line saying so)
  const changedAt = (a) => Date.parse(a.resolved_at || a.opened_at) || 0;
  const openedAt = (a) => Date.parse(a.opened_at) || 0;
  function renderStream() {
    const box = $("stream");
    box.replaceChildren();
    const isLive = current();
    const at = isLive ? changedAt : openedAt;
    $("stream-title").textContent = t(isLive ? "stream" : "stream_period");
    const shown = state.stream
      .filter(({ a }) => a.area && within(a.area, state.area))
      .sort((x, y) => at(y.a) - at(x.a));
    if (!isLive) box.append(el("li", t("stream_past"), "note"));
    if (!shown.length) box.append(el("li", t("no_alerts"), "empty"));
    for (const { a, live } of shown) {
      const li = el("li", null, "sev-" + a.severity + (live ? " live" : "") + (a.resolved_at ? " resolved" : ""));
      li.dataset.scenario = a.scenario;
      li.dataset.id = a.id;
      li.dataset.area = a.area;
      li.append(el("span", when(isLive ? a.resolved_at || a.opened_at : a.opened_at), "t"), el("div", scenarioName(a.scenario), "n"));
      const meta = [name("severities", a.severity), areaName(a.area), a.count > 1 ? a.count + t("count_times") : "", a.resolved_at ? t("resolved") : ""];
      li.append(el("div", meta.filter(Boolean).join(" · "), "m"));
      li.addEventListener("click", () => showCases({ scenario: a.scenario, area: a.area || state.area, ...(isLive ? {} : opened()), label: scenarioName(a.scenario) }));
      box.append(li);
    }
    countAlerts();
  }

  // how many open alerts the map shows (after each redraw of the map, and of the list)
  function countAlerts() {
    $("stream-count").textContent = t("open_alerts") + " " + state.alerts.size;
  }

  // the alerts of the area and period shown (issue 18: it stayed district-wide on a
  // drill-down), then, while the period holds today, the live ones as they come
  async function loadStream() {
    const gen = state.gen;
    const body = await json("/api/v1/alerts?" + qs({ area: state.area, ...period(), per_page: 30 }));
    if (gen !== state.gen) return; // drilled on, or another period, meanwhile
    const seen = new Set(state.stream.map((s) => s.a.id));
    for (const a of body.items) if (!seen.has(a.id)) state.stream.push({ a, live: false });
    renderStream();
  }

  function connect() {
    const source = new EventSource("/api/v1/alerts/stream");
    source.onopen = () => setLive("live");
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
    source.addEventListener("alert", (ev) => {
      if (!current()) return; // a period that is over: its own alerts, not the live ones
      const a = JSON.parse(ev.data);
      state.stream = state.stream.filter((s) => s.a.id !== a.id);
      state.stream.unshift({ a, live: true });
      state.stream.length = Math.min(state.stream.length, 60);
      markAlert(a);
      renderStream();
      // a new critical alert: the banner and the tone (screen.js)
      screen.alert(a, { scenario: state.scenarios[a.scenario], area: areaName(a.area), open: () => showCases({ scenario: a.scenario, area: a.area, label: scenarioName(a.scenario) }) });
    });
  }

  // issue 18: the area table and the case drawer as Excel or PDF files, with the query
  // shown on screen (GET /api/v1/kpis/breakdown/export, /api/v1/cases/export)
  function exportView(what, format) {
    const by = state.area && CHILD[state.areas[state.area].level];
    if (what === "table" && by) location.assign("/api/v1/kpis/breakdown/export?" + qs({ by, area: state.area, ...period(), format }));
    if (what === "cases" && state.filter) location.assign("/api/v1/cases/export?" + qs({ ...state.filter, label: null, format }));
  }
  for (const b of document.querySelectorAll("[data-export]")) b.addEventListener("click", () => exportView(b.dataset.export, b.dataset.format));

  // ------------------------------------------------------------------ cases
  const CASE_PAGE = 50;
  async function showCases(filter, reset = true) {
    state.filter = filter;
    if (reset) state.page = 1;
    const drawer = $("cases");
    drawer.hidden = false;
    $("case-detail").hidden = true;
    $("cases-list").hidden = false;
    $("cases-title").textContent = filter.label || t("cases_of");
    const params = { ...filter };
    delete params.label;
    const parts = [areaName(filter.area)];
    if (filter.opened_first) parts.push(t("opened_on") + " " + filter.opened_first + (filter.opened_last !== filter.opened_first ? "—" + filter.opened_last : ""));
    if (filter.closed_first) parts.push(t("closed") + " " + filter.closed_first + (filter.closed_last !== filter.closed_first ? "—" + filter.closed_last : ""));
    const body = await json("/api/v1/cases?" + qs({ ...params, page: state.page, per_page: CASE_PAGE }));
    if (state.filter !== filter) return;
    $("cases-filter").textContent = parts.filter(Boolean).join(" · ") + " · " + (t("total") + " " + body.total + " " + t("items")).trim();
    const list = $("cases-list");
    if (state.page === 1) list.replaceChildren();
    if (!body.total) list.append(el("li", t("no_cases"), "empty"));
    for (const c of body.items) {
      const li = el("li", null, "case sev-" + c.severity);
      li.dataset.id = c.id;
      li.append(el("span", name("case_states", c.state), "state"), el("div", c.title, "title"));
      li.append(el("div", [c.id, c.area ? c.area.name : "", t("opened_on") + " " + when(c.opened_at), c.due_at ? t("due_on") + " " + when(c.due_at) : ""].filter(Boolean).join(" · "), "meta"));
      li.addEventListener("click", () => showCase(c.id));
      list.append(li);
    }
    $("cases-more").hidden = state.page * CASE_PAGE >= body.total;
  }

  // the case card (casecard.js): title, place, photos, timeline, time left, 督办 / 催办
  async function showCase(id) {
    const box = $("case-detail");
    $("cases-list").hidden = true;
    $("cases-more").hidden = true;
    await window.cityeye.casecard.show(box, id, () => { box.hidden = true; $("cases-list").hidden = false; $("cases-more").hidden = false; });
  }

  $("cases-close").addEventListener("click", () => { $("cases").hidden = true; state.filter = null; });
  $("cases-more").addEventListener("click", () => { state.page += 1; showCases(state.filter, false); });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") $("cases").hidden = true; });

  // ------------------------------------------------------------------ start
  (async function start() {
    const [me] = await Promise.all([json("/api/v1/auth/me"), names.load()]);
    state.me = me;
    const [areas, scenarios] = await Promise.all([json("/api/v1/areas?boundaries=true"), json("/api/v1/scenarios")]);
    for (const a of areas) {
      state.areas[a.code] = a;
      if (a.parent) (state.kids[a.parent] = state.kids[a.parent] || []).push(a.code);
    }
    for (const s of scenarios) state.scenarios[s.id] = s;
    const district = areas.find((a) => !a.parent);
    const posts = me.areas.filter((c) => state.areas[c]);
    state.root = posts.length ? posts[0] : district.code;
    // the data's own latest month: the default period (a demo's, last year's database)
    const latest = await json("/api/v1/kpis/latest").catch(() => ({}));
    state.dataMonth = latest.month || null;
    applyUrl();
    applyLang();
    connect();
    screen.kiosk({ root: state.root, children: () => children(state.root), drill }); // ?kiosk=1
    await reload();
  })();
})();
