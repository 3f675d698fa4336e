// The case card (工单详情) in the cockpit's drawer, for a leader running a meeting on it
// (issue 18, item 2): what the case is and where, in the people's own words — its title,
// place on a small map, the resident's and the handlers' photos, a timeline that names
// who did what and when in the district's time (no state codes, no alert ids), the time
// left to its deadline or how long it is overdue, its 督办 / 催办 counts — and, for a
// leader whose areas cover it, the two actions with a note.
//
// Everything comes from GET /api/v1/cases/{id} (the presenters say it in Chinese: actor
// names, plain notes, place) and the names of states and moves from GET /api/v1/meta
// (common.js `names`); photos from /api/v1/attachments, which the case's own scope
// already limits to staff who may see the case. 督办 and 催办 are
// POST /api/v1/cases/{id}/supervise and /urge.
//
// cockpit.js calls window.cityeye.casecard.show(box, id, back) from the drawer; this file
// is loaded after it and keeps nothing else of the cockpit's.
"use strict";
(function () {
  const { api, el, names, lang, time, clock } = window.cityeye;
  const pick = lang.pick;
  let map = null;
  let shown = null; // {box, c, back, message: [zh, en]}: redrawn when the language changes

  // the refusals of a 督办 / 催办, by the field the server names (common.js refusal)
  const REFUSED = {
    note: ["督办请写明要求（最多 500 字）。", "A supervision needs a note (up to 500 characters)."],
    state: ["这件工单已经结束，不能再督办或催办。", "This case has ended: it takes no supervision or urge."],
    urge: ["十分钟内已催办过，请稍后再催。", "Urged less than ten minutes ago; try again later."],
  };

  // 剩 3 小时 20 分 / 超期 2 天 5 小时: the time left to the deadline, on the server's clock
  function left(c) {
    if (c.closed_at) return { text: pick("已结束 ", "Ended ") + time.minutes(c.closed_at), cls: "" };
    if (!c.due_at) return { text: pick("无时限", "No deadline"), cls: "" };
    const minutes = Math.round((Date.parse(c.due_at) - clock.now()) / 60000);
    const m = Math.abs(minutes);
    const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    const zh = (d ? d + " 天 " : "") + (d || h ? h + " 小时" : mm + " 分钟");
    const en = (d ? d + " d " : "") + (d || h ? h + " h" : mm + " min");
    if (minutes < 0) return { text: pick("超期 " + zh, "Overdue by " + en), cls: "overdue" };
    return { text: pick("剩 " + zh, en + " left"), cls: minutes < 120 ? "soon" : "" };
  }

  function picture(ref, caption) {
    const f = el("figure");
    const a = el("a");
    a.href = "/api/v1/attachments/" + encodeURIComponent(ref);
    a.target = "_blank";
    const img = el("img");
    img.src = a.href;
    img.alt = caption;
    img.loading = "lazy";
    img.addEventListener("error", () => a.replaceWith(el("span", pick("照片无法显示", "Photo unavailable"), "muted")));
    a.append(img);
    f.append(a, el("figcaption", caption));
    return f;
  }

  // the resident's photos (before) and each handler's, with who and when
  function photos(c) {
    const out = (c.photos || []).map((ref) => picture(ref, pick("居民上报", "Reported by the resident")));
    for (const e of c.timeline) {
      for (const ref of e.attachments || []) out.push(picture(ref, (e.actor_name || "") + " · " + time.short(e.at)));
    }
    return out;
  }

  function drawMap(div, place) {
    if (map) map.remove();
    map = window.cityeye.caseMap(div, place, { line: "#3fa7ff", fill: 0.1, pin: "#e74c3c" });
  }

  function facts(rows) {
    const dl = el("dl", null, "cc-facts");
    for (const [label, value] of rows) {
      if (value == null || value === "") continue;
      const dd = el("dd");
      dd.append(value);
      dl.append(el("dt", label), dd);
    }
    return dl;
  }

  // 督办 in red: who, when, what (the handler's desk shows the same banner)
  function banner(s) {
    const b = el("div", null, "cc-banner");
    b.setAttribute("role", "note");
    b.append(el("b", names.shown("notes", "supervise") + " · " + s.by + " · " + time.minutes(s.at)), el("p", s.note));
    return b;
  }

  function actions(c) {
    const form = el("form", null, "cc-actions");
    form.append(el("h4", pick("督办 / 催办", "Supervise / urge")));
    const note = el("textarea");
    note.name = "note";
    note.rows = 3;
    note.maxLength = c.supervision.note_max;
    note.placeholder = pick("督办要求（必填）；催办可不填", "What is to be done (required to supervise; optional to urge)");
    note.setAttribute("aria-label", pick("督办说明", "Note"));
    const buttons = el("div", null, "cc-buttons");
    const sup = el("button", pick("督办", "Supervise"), "cc-supervise");
    sup.type = "submit";
    sup.dataset.action = "supervise";
    const urge = el("button", pick("催办", "Urge"), "ghost cc-urge");
    urge.type = "button";
    urge.dataset.action = "urge";
    const wait = c.supervision.urge_wait_s;
    if (wait > 0) {
      urge.disabled = true;
      urge.title = pick(Math.ceil(wait / 60) + " 分钟后可再催办", "Again in " + Math.ceil(wait / 60) + " min");
    }
    const status = el("p", shown && shown.message ? pick(...shown.message) : null, "cc-status");
    status.setAttribute("role", "status");
    buttons.append(sup, urge);
    form.append(note, buttons, status);
    async function send(what) {
      if (what === "supervise" && !note.value.trim()) {
        status.textContent = pick(REFUSED.note[0], REFUSED.note[1]);
        note.focus();
        return;
      }
      sup.disabled = urge.disabled = true;
      const r = await api("/api/v1/cases/" + encodeURIComponent(c.id) + "/" + what, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ note: note.value }),
      });
      const body = await r.json().catch(() => ({}));
      if (r.status === 202) {
        // taken, to be applied by the worker that keeps the case (serve --bus): look again shortly
        status.textContent = pick("已提交，稍后生效。", "Sent; it takes effect shortly.");
        setTimeout(() => { if (shown && shown.c.id === c.id) show(shown.box, c.id, shown.back); }, 2000);
        return;
      }
      if (r.ok && body.id) {
        // [zh, en]: said again in the other language if the page switches
        const done = what === "supervise" ? ["已督办，处置单位已收到通知。", "Supervised: the handlers are told."] : ["已催办，处置单位已收到通知。", "Urged: the handlers are told."];
        render(shown.box, body, shown.back, done);
        return;
      }
      status.textContent = lang.refusal(r.status, body.detail, REFUSED);
      sup.disabled = false;
      urge.disabled = wait > 0;
    }
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      send("supervise");
    });
    urge.addEventListener("click", () => send("urge"));
    return form;
  }

  function render(box, c, back, message) {
    shown = { box, c, back, message };
    box.replaceChildren();
    box.classList.add("casecard");
    box.dataset.state = c.state; // for styles and tests; never shown
    const backButton = el("button", pick("返回列表", "Back to the list"), "ghost");
    backButton.type = "button";
    backButton.addEventListener("click", () => {
      shown = null;
      back();
    });
    box.append(backButton, el("h3", c.heading || c.title));
    const path = (c.area_path || []).slice(1).map((a) => a.name);
    box.append(el("p", [c.id, names.shown("case_states", c.state), pick("紧急程度：", "Severity: ") + names.shown("severities", c.severity)].join(" · "), "muted"));
    const due = left(c);
    const counts = el("p", null, "cc-counts");
    counts.append(
      // the names are the notes' own (GET /api/v1/meta): 督办 Supervised, 催办 Urged
      el("span", names.shown("notes", "supervise") + " " + c.supervisions + pick(" 次", "×"), c.supervisions ? "cc-count on" : "cc-count"),
      el("span", names.shown("notes", "urge") + " " + c.urges + pick(" 次", "×"), c.urges ? "cc-count on" : "cc-count"),
    );
    const dueEl = el("b", due.text, "cc-left " + due.cls);
    const place = c.place || {};
    const where = [path.join(" › "), place.name && !path.includes(place.name) ? place.name : ""].filter(Boolean).join(" · ");
    const top = el("div", null, "cc-top");
    const info = el("div");
    info.append(
      facts([
        [pick("地点", "Place"), where],
        [pick("上报", "Reported"), time.minutes(c.opened_at)],
        [pick("时限", "Due"), c.due_at ? time.minutes(c.due_at) : ""],
        [pick("剩余", "Left"), dueEl],
        [pick("主办", "Lead"), c.lead ? c.lead.name : pick("未派遣", "Not sent yet")],
        [names.shown("notes", "co_handle"), (c.co_handlers || []).map((p) => p.name).join("、")],
      ]),
      counts,
    );
    if (c.why && c.origin !== "citizen") info.append(el("p", pick("为什么立案：", "Why this case: ") + c.why.name + (c.why.text ? " — " + c.why.text : ""), "muted"));
    if (c.why && c.why.score) info.append(window.cityeye.scoreCard(c.why.score));
    if (c.report_text) info.append(el("p", pick("居民描述：", "Resident said: ") + c.report_text));
    const mapDiv = el("div", null, "cc-map");
    mapDiv.setAttribute("role", "img");
    mapDiv.setAttribute("aria-label", pick("位置 ", "Place ") + (place.name || where));
    top.append(info, mapDiv);
    box.append(top);
    const s = c.supervision || {};
    if (s.supervise) box.append(banner(s.supervise));
    const pics = photos(c);
    if (pics.length) {
      box.append(el("h4", pick("照片", "Photos")));
      const row = el("div", null, "cc-photos");
      row.append(...pics);
      box.append(row);
    }
    box.append(el("h4", pick("办理经过", "Timeline")));
    const ol = el("ol", null, "cc-timeline");
    for (const e of c.timeline) {
      const li = el("li", null, e.action === "supervise" || e.action === "urge" ? "cc-lead" : "");
      const line = [names.shown(names.TIMELINE, e.action), e.actor_name || "", e.text != null ? e.text : e.note].filter(Boolean).join(" · ");
      li.append(el("time", time.full(e.at)), el("span", line));
      ol.append(li);
    }
    box.append(ol);
    if (s.may) box.append(actions(c));
    box.hidden = false;
    drawMap(mapDiv, place); // after the box is shown: Leaflet measures it
  }

  // open case `id` in `box`; `back()` returns to the list
  async function show(box, id, back) {
    const r = await api("/api/v1/cases/" + encodeURIComponent(id));
    if (!r.ok) {
      box.replaceChildren(el("p", lang.refusal(r.status, ""), "muted"));
      box.hidden = false;
      return;
    }
    render(box, await r.json(), back);
  }

  // 中/EN while the card is open: the card again in the other language (the cockpit
  // leaves its drawer list be while a card is open)
  lang.onChange(() => {
    if (shown && !shown.box.hidden) render(shown.box, shown.c, shown.back, shown.message);
  });

  window.cityeye.casecard = { show };
})();
