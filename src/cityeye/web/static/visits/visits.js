// 企业走访: the 包联干部's phone page (docs/enterprises.md). The list: the enterprises the
// signed-in person may visit — a handler's own, a dispatcher's of their areas — soonest
// due first, the overdue in red, each with its open warnings counted. One enterprise:
// its contacts (whole phone numbers, to call), its pending warnings with the events
// behind them, the form that records a visit (people met, situation, problems, photos,
// the phone's check-in, and the outcome of the warning it answers), its past visits.
// The server decides who may do what and computes the check-in's distance.
// Enterprise names and visit notes are people's words: text nodes only, never innerHTML.
"use strict";
(function () {
  const API = "/api/v1/enterprises";
  const state = { me: null, list: [], one: null, photos: [], point: null };
  const $ = (id) => document.getElementById(id);
  const { api, clock, time, el, bi, names, lang } = window.cityeye;
  const pick = lang.pick;

  const FIELDS = {
    people_met: ["请填写走访对象。", "People met: required."],
    situation: ["请填写企业情况。", "Situation: required."],
    photos: ["照片没有上传成功，请重新选择。", "A photo did not upload; choose it again."],
    outcome: ["请先选择所答复的预警。", "Outcome: choose the warning it answers first."],
    lat: ["定位不完整，请重新打卡。", "Check-in incomplete; check in again."],
  };

  const call = (method, path, body) => window.cityeye.call(method, path, body, FIELDS);


  function notice(message) {
    $("notice").textContent = message || "";
    $("notice").hidden = !message;
  }

  // ------------------------------------------------------------------ the list
  function dueText(e) {
    if (!e.due_at) return pick("应尽快首次走访", "First visit due now");
    const when = time.day(e.due_at);
    return e.overdue ? pick("已逾期，应于 " + when + " 前走访", "Overdue since " + when) : pick("应于 " + when + " 前走访", "Due by " + when);
  }

  function drawList() {
    const items = state.list.map((e) => {
      const li = el("li", null, e.overdue ? "overdue" : "");
      const b = el("button");
      b.type = "button";
      b.dataset.id = e.id;
      const name = el("span", e.name, "name");
      if (e.pending_warnings) name.append(el("span", pick("预警 " + e.pending_warnings, e.pending_warnings + " warning(s)"), "badge"));
      b.append(name, el("span", e.area_name + " · " + dueText(e), "due"));
      b.addEventListener("click", () => openOne(e.id));
      li.append(b);
      return li;
    });
    $("enterprises").replaceChildren(...items);
    $("count").textContent = state.list.length ? "(" + state.list.length + ")" : "";
    $("none").hidden = state.list.length > 0;
  }

  async function loadList() {
    const r = await call("GET", API);
    if (!r.ok) {
      notice(r.status === 403 ? pick("企业走访由街道、社区干部使用；您的账号不能使用本页。", "Enterprise visits are for street and community staff; your account cannot use this page.") : r.error);
      $("list-box").hidden = true;
      return;
    }
    const mine = r.body.enterprises;
    // a handler sees only their own; a dispatcher, theirs first, then the area's
    mine.sort((a, b) => (b.staff === state.me.id) - (a.staff === state.me.id) || (a.overdue === b.overdue ? 0 : a.overdue ? -1 : 1) || String(a.due_at || "").localeCompare(String(b.due_at || "")));
    state.list = mine;
    drawList();
  }

  // ------------------------------------------------------------------ one enterprise
  function drawOne() {
    const e = state.one;
    $("one-name").textContent = e.name;
    const size = e.size ? names.shown("enterprise_sizes", e.size) + " · " : "";
    $("one-meta").textContent = [e.area_name, e.address, size + names.shown("risk_levels", e.risk), dueText(e)].filter(Boolean).join(" · ");
    $("one-contacts").replaceChildren(...e.contacts.map((c) => {
      const li = el("li", c.name + (c.role ? "（" + c.role + "）" : "") + " ");
      if (c.phone) {
        const a = el("a", c.phone);
        a.href = "tel:" + c.phone.replace(/[^\d+]/g, "");
        li.append(a);
      }
      return li;
    }));
    const pending = e.warnings.filter((w) => w.status === "pending");
    $("one-warnings").replaceChildren(...pending.map((w) => {
      const box = el("div", null, "warning-card");
      box.append(el("strong", pick("预警：", "Warning: ") + names.shown("severities", w.alert.severity) + " · " + scenarioName(w)));
      box.append(el("p", pick("发生于 ", "Since ") + time.minutes(w.alert.opened_at) + pick("，应于 ", "; visit by ") + time.minutes(w.due_at) + pick(" 前走访", "")));
      const evidence = state.evidence[w.alert.id] || [];
      if (evidence.length) {
        const ul = el("ul");
        for (const ev of evidence) ul.append(el("li", time.minutes(ev.ts) + " · " + evidenceText(ev)));
        box.append(bi("p", "依据的数据：", "The data behind it:"), ul);
      }
      return box;
    }));
    const select = document.querySelector("#visit select[name=alert_id]");
    select.replaceChildren(el("option", pick("（不答复预警）", "(none)")), ...pending.map((w) => {
      const o = el("option", scenarioName(w) + " · " + time.minutes(w.alert.opened_at));
      o.value = w.alert.id;
      return o;
    }));
    select.firstChild.value = "";
    const outcome = document.querySelector("#visit select[name=outcome]");
    outcome.replaceChildren(el("option", pick("（请选择）", "(choose)")), ...names.entries("warning_outcomes").map(([value]) => {
      const o = el("option", names.shown("warning_outcomes", value));
      o.value = value;
      return o;
    }));
    outcome.firstChild.value = "";
    $("answer-box").hidden = pending.length === 0;
    $("visit").hidden = !e.may_visit;
    $("one-visits").replaceChildren(...e.visits.map((v) => {
      const li = el("li");
      li.append(el("strong", time.minutes(v.at) + " · " + (v.visitor_name || "")));
      li.append(el("div", pick("走访对象：", "Met: ") + v.people_met));
      li.append(el("div", v.situation));
      if (v.problems) li.append(el("div", pick("问题：", "Problems: ") + v.problems));
      if (v.outcome) li.append(el("div", pick("预警结果：", "Warning outcome: ") + names.shown("warning_outcomes", v.outcome)));
      if (v.distance_m != null) li.append(el("div", pick("打卡距企业 ", "Checked in ") + Math.round(v.distance_m) + pick(" 米", " m away") + (v.far ? pick("（较远）", " (far)") : ""), v.far ? "badge" : "hint"));
      return li;
    }));
  }

  // the warning's scenario by name: the enterprise scenarios' names live on the server
  // (GET /api/v1/scenarios); until they come, the scenario as the alert names it
  function scenarioName(w) {
    const s = state.scenarios[w.alert.scenario];
    return s ? pick(s.zh, s.en) : w.alert.scenario;
  }

  // the monthly indicators the data bureau sends (enterprise.indicator's metric)
  const METRICS = { revenue: ["营业收入", "revenue"], electricity: ["用电量", "electricity"] };
  function evidenceText(ev) {
    const a = ev.attrs || {};
    if (a.text) return a.text;
    if (a.metric !== undefined && a.value !== undefined) {
      const m = METRICS[a.metric] ? pick(METRICS[a.metric][0], METRICS[a.metric][1]) : a.metric;
      return m + " " + a.value + (a.unit ? " " + a.unit : "") + (a.month ? "（" + a.month + "）" : "");
    }
    return Object.values(a).filter((v) => typeof v !== "object").join("，");
  }

  async function openOne(id) {
    const r = await call("GET", `${API}/${encodeURIComponent(id)}`);
    if (!r.ok) { notice(r.error); return; }
    state.one = r.body;
    state.evidence = {};
    const tasks = await call("GET", `${API}/warnings?status=pending`);
    if (tasks.ok) for (const w of tasks.body.warnings) state.evidence[w.alert.id] = w.evidence;
    resetForm();
    drawOne();
    $("list-box").hidden = true;
    $("one").hidden = false;
    history.replaceState(null, "", "#" + id);
    window.scrollTo(0, 0);
  }

  function back() {
    $("one").hidden = true;
    $("list-box").hidden = false;
    history.replaceState(null, "", location.pathname);
    loadList();
  }

  // ------------------------------------------------------------------ the form
  function resetForm() {
    const form = $("visit");
    form.reset();
    state.point = null;
    $("located").textContent = "";
    $("photos-chosen").textContent = "";
    $("saved").hidden = true;
    for (const p of form.querySelectorAll(".error")) { p.textContent = ""; p.hidden = true; }
  }

  function showError(r) {
    const form = $("visit");
    const spot = form.querySelector(`.error[data-for="${r.field}"]`) || form.querySelector('.error[data-for=""]');
    spot.textContent = r.error;
    spot.hidden = false;
    const input = r.field && form.elements.namedItem(r.field);
    if (input && input.focus) input.focus();
  }

  function locate() {
    if (!navigator.geolocation) {
      $("located").textContent = pick("此设备不能定位。", "This device cannot locate.");
      return;
    }
    $("located").textContent = pick("正在定位…", "Locating…");
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        state.point = { lat: pos.coords.latitude, lon: pos.coords.longitude };
        $("located").textContent = pick("已打卡（±" + Math.round(pos.coords.accuracy || 0) + " 米）", "Checked in (±" + Math.round(pos.coords.accuracy || 0) + " m)");
      },
      () => { $("located").textContent = pick("定位失败：请允许本页使用位置，或不打卡提交。", "Could not locate: allow this page your location, or save without."); },
      { enableHighAccuracy: true, timeout: 15000 },
    );
  }

  async function uploadPhoto(file) {
    let r;
    try {
      r = await api("/api/v1/attachments", { method: "POST", headers: { "content-type": file.type }, body: file });
    } catch (e) {
      return null;
    }
    if (!r.ok) return null;
    return (await r.json()).ref;
  }

  async function save(ev) {
    ev.preventDefault();
    const form = $("visit");
    for (const p of form.querySelectorAll(".error")) { p.textContent = ""; p.hidden = true; }
    const button = form.querySelector("[data-action=save]");
    button.disabled = true;
    try {
      const photos = [];
      for (const file of form.elements.namedItem("photo").files) {
        const ref = await uploadPhoto(file);
        if (!ref) { showError({ field: "photos", error: pick(lang.NOT_A_PHOTO[0], lang.NOT_A_PHOTO[1]) }); return; }
        photos.push(ref);
      }
      const body = {
        people_met: form.elements.namedItem("people_met").value,
        situation: form.elements.namedItem("situation").value,
        problems: form.elements.namedItem("problems").value,
        photos,
      };
      const alertId = form.elements.namedItem("alert_id").value;
      const outcome = form.elements.namedItem("outcome").value;
      if (alertId) body.alert_id = alertId;
      if (outcome) body.outcome = outcome;
      if (state.point) Object.assign(body, state.point);
      const r = await call("POST", `${API}/${encodeURIComponent(state.one.id)}/visits`, body);
      if (!r.ok) { showError(r); return; }
      const v = r.body;
      await openOne(state.one.id);
      const far = v.distance_m != null ? pick("，打卡距企业 " + Math.round(v.distance_m) + " 米", "; checked in " + Math.round(v.distance_m) + " m away") : "";
      $("saved").textContent = pick("走访已记录" + far + "。", "Visit saved" + far + ".");
      $("saved").hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------------ start
  $("visit").addEventListener("submit", save);
  // a field's refusal goes once the person corrects it
  $("visit").addEventListener("input", (ev) => {
    const spot = ev.target.name && $("visit").querySelector(`.error[data-for="${ev.target.name}"]`);
    if (spot) spot.hidden = true;
  });
  document.querySelector("#visit input[name=photo]").addEventListener("change", (ev) => {
    const n = ev.target.files.length;
    $("photos-chosen").textContent = n ? pick("已选 " + n + " 张", n + " chosen") : "";
  });
  document.querySelector("[data-action=locate]").addEventListener("click", locate);
  document.querySelector("[data-action=back]").addEventListener("click", back);
  $("logout").addEventListener("click", async (ev) => {
    ev.preventDefault();
    await api("/api/v1/auth/logout", { method: "POST" });
    location.assign("/login?next=/visits");
  });
  lang.onChange(() => {
    if (state.list.length) drawList();
    if (state.one) drawOne();
  });

  (async function start() {
    const me = await call("GET", "/api/v1/auth/me");
    if (!me.ok) { notice(me.error); return; }
    state.me = me.body;
    state.scenarios = {};
    state.evidence = {};
    $("who").textContent = state.me.display_name;
    await Promise.all([names.load(), clock.ready]);
    const scenarios = await call("GET", "/api/v1/scenarios");
    if (scenarios.ok && Array.isArray(scenarios.body)) {
      for (const s of scenarios.body) state.scenarios[s.id] = { zh: s.name_zh || s.id, en: s.name_en || s.id };
    }
    await loadList();
    const id = location.hash.slice(1);
    if (id) openOne(decodeURIComponent(id));
  })();
})();
