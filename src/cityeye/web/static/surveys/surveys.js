// 社会评价: the assessment office's page for the annual survey of the district's streets
// and departments (docs/survey.md). On the left the surveys — title, year, window on the
// district's clock, whether open, how many invited and answered — and the form that
// creates one; on the right the chosen survey: its invitations (one-time links shown
// this once, to copy or download; the verified residents of an area), closing it early,
// and its results — a dot-and-whisker chart of each unit's mean and 95 % interval drawn
// here in SVG, the count of each score, the comments, the xlsx export.
//
// The server decides who may do what: the list answers 403 to anyone not at a district
// post (the page then says so), and the units to choose from (GET /surveys/units) only
// to those who run surveys, so a leader, who reads results only, gets no forms.
// Comments are residents' words: text nodes only, never innerHTML.
"use strict";
(function () {
  const API = "/api/v1/surveys";
  const SVG = "http://www.w3.org/2000/svg";
  const state = { me: null, surveys: [], units: null, areas: [], chosen: null, results: null, closed: new Set() };
  const $ = (id) => document.getElementById(id);
  const { api, clock, time, el, bi, names, lang } = window.cityeye;
  const pick = lang.pick;

  // ------------------------------------------------------------------ requests
  // the fields the create and invite forms name, in a person's words (common.js
  // refusal: in Chinese a sentence for the field the server's reason names)
  const FIELDS = {
    title: ["请填写标题（1–200 字）。", "Title: 1–200 characters."],
    year: ["年度须是 2000–2100 之间的整数。", "Year: a whole number from 2000 to 2100."],
    opens_at: ["请填写开始时间。", "Opens: give a date and time."],
    closes_at: ["结束时间须晚于开始时间。", "Closes: must be after it opens."],
    units: ["至少选一个参评单位。", "Units: choose at least one."],
    links: ["链接数须是 1–2000 之间的整数。", "Links: a whole number from 1 to 2000."],
    area: ["这个区域不能选。", "Area: not one that may be chosen."],
  };

  // {ok, status, body, field, error}: `field` the one the server's reason names
  const call = (method, path, body) => window.cityeye.call(method, path, body, FIELDS);

  async function get(path) {
    const r = await call("GET", path);
    if (!r.ok) throw Object.assign(new Error(r.error), { status: r.status });
    return r.body;
  }

  function notice(message) {
    $("notice").textContent = message || "";
    $("notice").hidden = !message;
  }

  // a form's errors: each next to the field it names (data-for), else at the bottom
  function clearErrors(form) {
    for (const p of form.querySelectorAll(".error")) { p.textContent = ""; p.hidden = true; }
  }
  function showError(form, r) {
    const spot = form.querySelector(`.error[data-for="${r.field}"]`) || form.querySelector('.error[data-for=""]') || form.querySelector(".error");
    spot.textContent = r.error;
    spot.hidden = false;
    const input = r.field && form.elements.namedItem(r.field);
    if (input && input.focus) input.focus();
  }

  // disable the form's buttons while a request is out: no double submit
  async function busy(box, work) {
    const buttons = box.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    try { return await work(); } finally { for (const b of buttons) b.disabled = false; }
  }

  // ------------------------------------------------------------------ the list
  const when = time.minutes; // 2026/12/01 00:00 on the district's clock

  // not open yet, open, or over (closed early or at its end), by the server's clock —
  // and over once this page closed it: the page's estimate of the server's time may
  // run a few milliseconds behind the closing time the server just wrote
  function phase(s) {
    const now = clock.now();
    if (state.closed.has(s.id)) return { cls: "over", zh: "已结束", en: "Closed" };
    if (now < Date.parse(s.opens_at)) return { cls: "upcoming", zh: "未开始", en: "Not open yet" };
    if (now < Date.parse(s.closes_at)) return { cls: "open", zh: "进行中", en: "Open" };
    return { cls: "over", zh: "已结束", en: "Closed" };
  }

  function rate(s) {
    if (!s.invited) return pick("尚未邀请", "nobody invited yet");
    const pct = Math.round((100 * s.answered) / s.invited);
    return pick(`已邀请 ${s.invited} · 已答 ${s.answered}（${pct}%）`, `${s.invited} invited · ${s.answered} answered (${pct} %)`);
  }

  function surveyItem(s) {
    const li = el("li");
    const b = el("button", "", "survey-item");
    b.type = "button";
    b.dataset.id = s.id;
    if (state.chosen === s.id) b.setAttribute("aria-current", "true");
    const p = phase(s);
    const head = el("span", "", "head");
    head.append(el("b", s.title), bi("span", p.zh, p.en, "badge " + p.cls));
    b.append(
      head,
      el("span", pick(`${s.year} 年度 · `, `${s.year} · `) + when(s.opens_at) + " – " + when(s.closes_at), "meta"),
      el("span", rate(s), "meta rate"),
    );
    b.addEventListener("click", () => choose(s.id));
    li.append(b);
    return li;
  }

  function drawList() {
    $("surveys").replaceChildren(...state.surveys.map(surveyItem));
    $("surveys-none").hidden = state.surveys.length > 0;
    $("surveys-count").textContent = state.surveys.length ? String(state.surveys.length) : "";
  }

  async function loadList() {
    // newest first: this year's survey on top
    state.surveys = (await get(API)).sort((a, b) => b.year - a.year || Date.parse(b.opens_at) - Date.parse(a.opens_at));
    drawList();
  }

  // ------------------------------------------------------------------ create
  function unitBox(u) {
    const label = el("label", "", "check");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "unit";
    box.value = u.unit;
    box.checked = true;
    box.addEventListener("change", countUnits);
    label.append(box, el("span", " " + u.name));
    return label;
  }

  // the units by kind (streets, then departments), all ticked; each kind ticks or
  // clears its own at once
  function drawUnits() {
    const groups = [];
    for (const u of state.units) {
      let g = groups.find((x) => x.kind === u.kind);
      if (!g) groups.push((g = { kind: u.kind, name: u.kind_name, units: [] }));
      g.units.push(u);
    }
    $("unit-groups").replaceChildren(...groups.map((g) => {
      const box = el("div", "", "unit-group");
      const all = el("button", "", "small secondary");
      all.type = "button";
      const head = el("p", "", "group-head");
      const kindName = g.name ? pick(g.name.zh, g.name.en) : g.kind;
      head.append(el("b", kindName + pick(`（${g.units.length}）`, ` (${g.units.length})`)), all);
      const list = el("div", "", "unit-boxes");
      list.append(...g.units.map(unitBox));
      const boxes = () => [...list.querySelectorAll("input")];
      all.addEventListener("click", () => {
        const tick = !boxes().every((x) => x.checked);
        for (const x of boxes()) x.checked = tick;
        countUnits();
      });
      box.append(head, list);
      return box;
    }));
    countUnits();
  }

  function countUnits() {
    const boxes = [...$("unit-groups").querySelectorAll("input[name=unit]")];
    const n = boxes.filter((x) => x.checked).length;
    $("units-count").textContent = pick(`已选 ${n} / ${boxes.length}`, `${n} of ${boxes.length} chosen`);
    for (const g of $("unit-groups").querySelectorAll(".unit-group")) {
      const all = g.querySelector("button");
      const every = [...g.querySelectorAll("input")].every((x) => x.checked);
      all.textContent = every ? pick("全不选", "Clear all") : pick("全选", "Tick all");
    }
  }

  // this year, from now to a month on, on the district's clock
  function formDefaults() {
    const f = $("new-survey");
    const now = clock.now();
    const year = time.day().slice(0, 4);
    f.elements.namedItem("year").value = year;
    f.elements.namedItem("title").value = pick(`${year} 年度社会评价`, `${year} unit evaluation`);
    f.elements.namedItem("opens_at").value = time.input(now);
    f.elements.namedItem("closes_at").value = time.input(now + 30 * 86400000);
    const zone = clock.timezone() || "";
    $("zone-hint").textContent = pick("按辖区当地时间填写。", `Times on the district's clock (${zone}).`);
  }

  $("new-survey").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    clearErrors(f);
    const value = (n) => f.elements.namedItem(n).value;
    const year = value("year").trim();
    const body = {
      title: value("title"),
      year: /^\d+$/.test(year) ? Number(year) : year,
      opens_at: time.fromInput(value("opens_at")),
      closes_at: time.fromInput(value("closes_at")),
      units: [...f.querySelectorAll("input[name=unit]:checked")].map((x) => x.value),
    };
    const r = await busy(f, () => call("POST", API, body));
    if (!r.ok) return showError(f, r);
    $("new-box").open = false;
    formDefaults();
    drawUnits();
    await loadList();
    await choose(r.body.id);
  });

  // ------------------------------------------------------------------ the survey
  async function choose(id) {
    state.chosen = id;
    drawList();
    const s = state.surveys.find((x) => x.id === id);
    if (!s) return;
    $("detail-empty").hidden = true;
    $("survey").hidden = false;
    $("links-box").hidden = true;
    $("links").value = "";
    $("close-confirm").hidden = true;
    for (const f of $("manage").querySelectorAll("form, .close-box")) clearErrors(f);
    $("manage").querySelector("#invite-residents .done").hidden = true;
    drawHead(s);
    $("export").href = `${API}/${encodeURIComponent(id)}/results/export?format=xlsx`;
    await loadResults();
  }

  function drawHead(s) {
    const p = phase(s);
    $("survey-title").replaceChildren(el("span", s.title), " ", bi("span", p.zh, p.en, "badge " + p.cls));
    $("survey-meta").textContent = pick(`${s.year} 年度 · 开放 `, `${s.year} · open `) + when(s.opens_at) + " – " + when(s.closes_at) +
      " · " + rate(s) + " · " + pick(`${s.units.length} 个参评单位`, `${s.units.length} units`);
    // invitations and closing only while it takes answers (or before it opens)
    const over = p.cls === "over";
    $("invite-links").hidden = over;
    $("invite-residents").hidden = over;
    $("close-box").hidden = over;
  }

  async function loadResults() {
    const id = state.chosen;
    try {
      const found = await get(`${API}/${encodeURIComponent(id)}/results`);
      if (id !== state.chosen) return; // another chosen meanwhile
      state.results = found;
      const i = state.surveys.findIndex((x) => x.id === id);
      if (i >= 0) state.surveys[i] = found.survey; // the newest counts
      drawList();
      drawHead(found.survey);
      drawResults();
    } catch (e) {
      notice(pick("结果不可用：", "Results unavailable: ") + e.message);
    }
  }

  // ------------------------------------------------------------------ invitations
  function showLinks(paths) {
    const urls = paths.map((p) => location.origin + p);
    $("links").value = urls.join("\n");
    $("links-count").textContent = pick(`${urls.length} 个`, `${urls.length}`);
    const s = state.surveys.find((x) => x.id === state.chosen);
    const old = $("links-download").href;
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    $("links-download").href = URL.createObjectURL(new Blob([urls.join("\r\n") + "\r\n"], { type: "text/plain;charset=utf-8" }));
    $("links-download").download = `${s ? s.title : "survey"}-${pick("链接", "links")}-${time.day()}.txt`;
    $("copied").textContent = "";
    $("links-box").hidden = false;
    $("links-box").scrollIntoView({ block: "nearest" });
  }

  $("invite-links").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    clearErrors(f);
    const n = f.elements.namedItem("links").value.trim();
    const body = { links: /^\d+$/.test(n) ? Number(n) : n };
    const r = await busy(f, () => call("POST", `${API}/${encodeURIComponent(state.chosen)}/invitations`, body));
    if (!r.ok) return showError(f, r);
    showLinks(r.body.links);
    await loadResults();
  });

  $("invite-residents").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    clearErrors(f);
    const done = f.querySelector(".done");
    done.hidden = true;
    const area = f.elements.namedItem("area").value;
    const body = { residents: true, area: area || null };
    const r = await busy(f, () => call("POST", `${API}/${encodeURIComponent(state.chosen)}/invitations`, body));
    if (!r.ok) return showError(f, r);
    const n = r.body.residents;
    done.textContent = n
      ? pick(`已邀请 ${n} 位居民：他们登录后在“社会评价”页答卷。`, `${n} residents invited: they answer on the survey page once signed in.`)
      : pick("没有新的居民可邀请（都已邀请过，或这里没有已核验的居民）。", "No more residents to invite (invited already, or none verified here).");
    done.hidden = false;
    await loadResults();
  });

  $("links-box").querySelector("[data-action=copy]").addEventListener("click", async () => {
    const text = $("links").value;
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch (e) {
      // no clipboard API here (plain http): select the text, for the person's own copy
      $("links").select();
      copied = document.execCommand && document.execCommand("copy");
    }
    $("copied").textContent = copied ? pick("已复制。", "Copied.") : pick("请按 Ctrl+C 复制选中的链接。", "Press Ctrl+C to copy the selected links.");
  });

  // ------------------------------------------------------------------ closing
  const closeBox = $("close-box");
  closeBox.querySelector("[data-action=close]").addEventListener("click", () => {
    $("close-confirm").hidden = false;
    closeBox.querySelector("[data-action=cancel-close]").focus();
  });
  closeBox.querySelector("[data-action=cancel-close]").addEventListener("click", () => {
    $("close-confirm").hidden = true;
  });
  closeBox.querySelector("[data-action=confirm-close]").addEventListener("click", async () => {
    clearErrors(closeBox);
    const r = await busy(closeBox, () => call("POST", `${API}/${encodeURIComponent(state.chosen)}/close`));
    $("close-confirm").hidden = true;
    if (!r.ok) return showError(closeBox, r);
    state.closed.add(r.body.id);
    await loadResults();
  });

  // ------------------------------------------------------------------ results
  const fixed = (x, n = 2) => (x == null ? "" : x.toFixed(n));

  // why a unit has no interval, in words
  function noInterval(u) {
    if (!u.responses) return pick("无评价", "no ratings");
    return pick("仅 1 份评价，不足以计算区间", "1 rating: too few for an interval");
  }

  // highest mean first; units without a rating last, in the survey's order
  function sorted(units) {
    return units.map((u, i) => [u, i]).sort(([a, i], [b, j]) => {
      if (a.mean == null || b.mean == null) return (a.mean == null) - (b.mean == null) || i - j;
      return b.mean - a.mean || b.responses - a.responses || i - j;
    }).map(([u]) => u);
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text != null) e.textContent = text;
    return e;
  }

  // what a chart row says after the dot: the mean, the interval and how many rated
  // (on a phone the mean and how many only; the table has the rest)
  function valueText(u, narrow) {
    if (u.mean == null) return pick("无评价", "no ratings");
    const n = pick(`${u.responses} 份`, `n=${u.responses}`);
    if (narrow) return fixed(u.mean) + pick(`（${n}）`, ` (${n})`);
    if (u.low == null) return fixed(u.mean) + pick(" · 仅 1 份，无区间", " · n=1, no interval");
    return fixed(u.mean) + ` [${fixed(u.low)}–${fixed(u.high)}] · ` + n;
  }

  // the widths of some words as the chart would draw them (its font, its size)
  function widths(box, words, cls) {
    const probe = svg("svg", { class: "dots", width: 1, height: 1 });
    probe.style.position = "absolute";
    probe.style.visibility = "hidden";
    const texts = words.map((w) => svg("text", { class: cls }, w));
    probe.append(...texts);
    box.append(probe);
    const out = texts.map((t) => t.getComputedTextLength());
    probe.remove();
    return out;
  }

  // A dot for each unit's mean on the 1–5 scale and a line for its 95 % interval, one
  // row per unit, drawn at the box's own width in CSS pixels (so its words are the
  // page's size on a phone and on a wall screen alike) and again when that changes;
  // the names' and the numbers' columns as wide as their longest words.
  function drawChart() {
    const box = $("chart");
    const found = state.results;
    if (!found) return box.replaceChildren();
    const units = sorted(found.units);
    const width = box.clientWidth;
    if (!width) return;
    const em = parseFloat(getComputedStyle(box).fontSize) || 15;
    const narrow = width < 40 * em;
    const said = units.map((u) => valueText(u, narrow));
    const gap = 0.8 * em;
    const label = Math.min(Math.max(0, ...widths(box, units.map((u) => u.name), "name")), width * 0.3);
    const right = Math.min(Math.max(0, ...widths(box, said, "value")), width * 0.4);
    const x0 = label + gap + 0.5 * em; // room for a 1's dot
    const x1 = Math.max(x0 + 4 * em, width - right - gap - 0.5 * em);
    const row = 2.1 * em;
    const top = 1.6 * em;
    const height = top + row * units.length + 0.4 * em;
    const x = (v) => x0 + ((v - 1) / 4) * (x1 - x0);
    const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", class: "dots" });
    chart.setAttribute("aria-label", pick("各单位平均分及 95% 区间", "Each unit's mean and 95 % interval"));
    for (let v = 1; v <= 5; v++) {
      chart.append(svg("line", { x1: x(v), x2: x(v), y1: top - 0.3 * em, y2: height - 0.4 * em, class: "grid" }));
      chart.append(svg("text", { x: x(v), y: top - 0.6 * em, "text-anchor": "middle", class: "tick" }, narrow ? String(v) : pick(`${v} 分`, String(v))));
    }
    units.forEach((u, i) => {
      const y = top + row * i + row / 2;
      const g = svg("g", { class: "unit", "data-unit": u.name });
      g.append(svg("title", {}, u.name + " " + valueText(u, false)));
      g.append(svg("text", { x: label, y: y + 0.35 * em, "text-anchor": "end", class: "name" }, u.name));
      if (u.low != null && u.high != null) {
        g.append(svg("line", { x1: x(u.low), x2: x(u.high), y1: y, y2: y, class: "whisker" }));
        for (const end of [u.low, u.high]) g.append(svg("line", { x1: x(end), x2: x(end), y1: y - 0.35 * em, y2: y + 0.35 * em, class: "whisker" }));
      }
      if (u.mean != null) g.append(svg("circle", { cx: x(u.mean), cy: y, r: 0.38 * em, class: "mean" }));
      g.append(svg("text", { x: x1 + gap + 0.5 * em, y: y + 0.35 * em, class: u.mean == null ? "value none" : "value" }, said[i]));
      chart.append(g);
    });
    box.replaceChildren(chart);
  }

  function drawResults() {
    const found = state.results;
    const s = found.survey;
    const rated = found.units.reduce((n, u) => n + u.responses, 0);
    $("results-meta").textContent = s.answered
      ? pick(`${s.answered} 份答卷，共 ${rated} 个评分。`, `${s.answered} responses, ${rated} ratings in all.`)
      : pick("还没有答卷。", "No responses yet.");
    drawChart();
    const rows = sorted(found.units).map((u) => {
      const tr = el("tr");
      tr.dataset.unit = u.name;
      const name = el("th", u.name);
      name.scope = "row";
      if (u.kind_name) name.append(el("span", pick(u.kind_name.zh, u.kind_name.en), "kind"));
      const interval = u.low == null ? el("td", noInterval(u), "none") : el("td", `${fixed(u.low)} – ${fixed(u.high)}`);
      const counts = el("td", "", "counts");
      for (let v = 1; v <= 5; v++) counts.append(el("span", pick(`${v} 分：`, `${v}: `) + (u.counts[String(v)] || 0)));
      tr.append(name, el("td", String(u.responses), "num"), el("td", u.mean == null ? "—" : fixed(u.mean), "num mean"), interval, counts);
      return tr;
    });
    $("results-table").tBodies[0].replaceChildren(...rows);
    const withComments = sorted(found.units).filter((u) => u.comments.length);
    const total = withComments.reduce((n, u) => n + u.comments.length, 0);
    $("comments-count").textContent = total ? String(total) : "";
    $("comments").replaceChildren(...(withComments.length ? withComments.map((u) => {
      const d = el("details", "", "unit-comments");
      d.open = withComments.length <= 3;
      d.append(el("summary", u.name + pick(`（${u.comments.length} 条）`, ` (${u.comments.length})`)));
      const list = el("ul");
      list.append(...u.comments.map((c) => {
        const li = el("li");
        li.append(el("span", pick(`${c.rating} 分`, `${c.rating}/5`), "score"), el("span", c.text));
        return li;
      }));
      d.append(list);
      return d;
    }) : [el("p", pick("还没有意见。", "No comments yet."), "empty")]));
  }

  new ResizeObserver(() => drawChart()).observe($("chart"));

  // ------------------------------------------------------------------ start
  function fillAreas() {
    const select = $("invite-residents").elements.namedItem("area");
    const kids = {};
    let root = null;
    for (const a of state.areas) {
      if (!a.parent) root = a;
      else (kids[a.parent] = kids[a.parent] || []).push(a);
    }
    const options = [];
    const walk = (a, depth) => {
      if (a.level === "grid") return; // a grid's residents: invite its community
      const o = el("option", "\u3000".repeat(depth) + (depth ? a.name : pick(`全区（${a.name}）`, `The whole district (${a.name})`)));
      o.value = depth ? a.code : "";
      options.push(o);
      for (const k of kids[a.code] || []) walk(k, depth + 1);
    };
    if (root) walk(root, 0);
    select.replaceChildren(...options);
  }

  function drawWho() {
    if (state.me) $("who").textContent = state.me.display_name + " (" + names.shown("user_roles", state.me.role) + ")";
  }

  // what the script wrote, again in the chosen language
  lang.onChange(() => {
    drawWho();
    drawList();
    if (state.units) {
      const ticked = new Set([...$("unit-groups").querySelectorAll("input:checked")].map((x) => x.value));
      drawUnits();
      for (const x of $("unit-groups").querySelectorAll("input")) x.checked = ticked.has(x.value);
      countUnits();
    }
    if (state.areas.length) fillAreas();
    const s = state.surveys.find((x) => x.id === state.chosen);
    if (s) drawHead(s);
    if (state.results) drawResults();
  });

  $("logout").addEventListener("click", async (ev) => {
    ev.preventDefault();
    await api("/api/v1/auth/logout", { method: "POST" });
    location.assign("/login?next=/surveys");
  });

  (async function start() {
    const [me] = await Promise.all([get("/api/v1/auth/me"), names.load(), clock.ready]);
    state.me = me;
    drawWho();
    try {
      await loadList();
    } catch (e) {
      if (e.status === 403) {
        notice(pick(
          "社会评价由区考评办组织：只有岗位覆盖全区的管理员、调度员和领导可以使用本页。你的岗位不在区级，看不到评价。",
          "Surveys are run by the district's assessment office: only admins, dispatchers and leaders at a district post use this page.",
        ));
        $("notice").classList.add("refused");
        return;
      }
      throw e;
    }
    $("work").hidden = false;
    // the forms only for those who run surveys (the server's answer, not a role table)
    const units = await call("GET", `${API}/units`);
    if (units.ok) {
      state.units = units.body;
      state.areas = await get("/api/v1/areas");
      fillAreas();
      drawUnits();
      formDefaults();
      for (const e of document.querySelectorAll("[data-run]")) e.hidden = false;
      if (!state.surveys.length) $("new-box").open = true;
    }
    const open = state.surveys.find((s) => phase(s).cls === "open") || state.surveys[0];
    if (open) await choose(open.id);
  })().catch((e) => notice(pick("加载失败：", "Could not load: ") + e.message));
})();
