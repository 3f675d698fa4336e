// The handler desk (处置端): my cases by deadline, a case's timeline, and its moves.
//
// Every move carries If-Match with the version the handler saw, so a move is never
// applied twice: a second tap, or a move re-sent after the network came back, gets 409
// instead of a second change. Moves made while offline wait in localStorage and are
// sent when the browser is online again (photos need the network: they are uploaded
// first, and a queued move only keeps their references). A queued move belongs to the
// person who made it: it is sent only while they are signed in, never under whoever
// signs in next on a shared phone; the others wait for their owner, and the desk says so.
//
// New work reaches the handler while the desk is open (issue 15): a live stream of my
// notifications, or polling when the stream will not hold; a new or critical case
// raises a system notification, a short sound and a banner that opens it. Installed
// as an app (desk.webmanifest, /desk-sw.js), the desk also starts with the network off.
"use strict";
(function () {
  const QUEUE = "cityeye.desk.queue";
  const DANGER = new Set(["return", "dismiss", "reopen"]);
  const CHECKS = new Set(["verify", "close"]); // the moves that judge the handler's work
  const PAGE = 50;
  const list = document.getElementById("list");
  const detail = document.getElementById("detail");
  const loading = document.getElementById("loading");
  const find = document.getElementById("find");
  let me = null;
  let tabs = []; // GET /api/v1/cases/counts: each tab's query and count
  let tab = null; // the tab shown
  let shown = 0; // cases listed so far (for "more")
  let current = null; // the case open in the detail pane
  let map = null;

  // static/common.js: the session, the server's clock (not the phone's), elements with
  // text (never innerHTML: case text comes from residents), and the names of states,
  // severities, moves and roles (GET /api/v1/meta: the server's, no table of our own)
  const { api, clock, time, names, lang } = window.cityeye;
  const pick = lang.pick; // one language at a time (common.js), Chinese unless chosen
  const text = window.cityeye.el;
  const bilingual = window.cityeye.bi;

  function severity(s) {
    return s ? pick("紧急程度：", "Severity: ") + names.shown("severities", s) : "";
  }

  function due(iso) {
    if (!iso) return { label: pick("无时限", "no deadline"), cls: "" };
    const minutes = Math.round((new Date(iso) - clock.now()) / 60000);
    const abs = Math.abs(minutes);
    const span = abs >= 1440 ? pick(Math.round(abs / 1440) + "天", Math.round(abs / 1440) + " d") : abs >= 60 ? pick(Math.round(abs / 60) + "小时", Math.round(abs / 60) + " h") : pick(abs + "分", abs + " min");
    if (minutes < 0) return { label: pick("超期 ", "overdue ") + span, cls: "overdue" };
    return { label: pick("剩 " + span, span + " left"), cls: minutes < 120 ? "soon" : "" };
  }

  // -- the queue: tabs with counts, search, filters, by deadline ----------------------
  function filters() {
    const out = new URLSearchParams();
    const q = find.q.value.trim();
    if (q) out.set("q", q);
    for (const name of ["scenario", "severity", "area"]) if (find[name].value) out.set(name, find[name].value);
    return out;
  }

  // issue 18: the list as it stands (tab, search, filters) as an Excel or PDF file, by
  // GET /api/v1/cases/export with the list's own query (the session cookie signs it)
  function exportList(format) {
    const t = tabs.find((x) => x.key === tab) || {};
    const params = filters();
    params.set("sort", t.key === "closed" ? "opened" : "due");
    if (t.states) params.set("state", t.states.join(","));
    if (t.overdue) params.set("overdue", "true");
    if (t.party) params.set("party", t.party);
    params.set("format", format);
    window.location.assign("/api/v1/cases/export?" + params);
  }
  for (const b of document.querySelectorAll("[data-export]")) b.addEventListener("click", () => exportList(b.dataset.export));

  // the server's refusals of a move or a photo, in the chosen language (common.js)
  const PHOTO_REFUSED = ["照片没有上传成功，请换一张再试。", "The photo did not upload; try another."];
  const MOVE_REFUSALS = {
    party: ["请选择处置单位。", "Pick a unit."],
    note: ["请在说明里写清原因。", "Say why in the note."],
    photos: PHOTO_REFUSED,
    photo: lang.NOT_A_PHOTO,
  };

  async function loadTabs() {
    const r = await api("/api/v1/cases/counts?" + filters());
    if (!r.ok) return;
    tabs = (await r.json()).tabs;
    if (!tab || !tabs.some((t) => t.key === tab)) tab = (tabs.find((t) => t.count > 0) || tabs[0] || {}).key;
    const nav = document.getElementById("tabs");
    nav.replaceChildren();
    for (const t of tabs) {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("role", "tab");
      b.dataset.tab = t.key;
      b.setAttribute("aria-selected", String(t.key === tab));
      b.append(pick(t.zh, t.en), text("span", String(t.count), "count"));
      b.addEventListener("click", () => {
        tab = t.key;
        asked();
      });
      nav.append(b);
    }
  }

  function card(c) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "card case sev-" + c.severity + (fresh.has(c.id) ? " fresh" : "");
    b.dataset.case = c.id;
    if (current && current.id === c.id) b.setAttribute("aria-current", "true");
    const d = due(c.due_at);
    b.dataset.due = c.closed_at ? "" : c.due_at || "";
    if (c.closed_at) b.append(text("span", pick("已结 ", "Ended ") + time.short(c.closed_at), "due"));
    else b.append(text("span", d.label, "due " + d.cls));
    b.append(text("div", c.heading || c.title, "title"));
    // a leader's 督办 on it (issue 18): marked in the queue, shown in red on the case
    if (c.supervisions) b.append(text("span", pick("督办 ", "Supervised ") + c.supervisions, "supervised"));
    // the place as people name it: the community and grid (not the district and street)
    const place = (c.area_path || []).slice(-2).map((a) => a.name).join(" ");
    b.append(text("div", [names.shown("case_states", c.state), place, c.id].filter(Boolean).join(" · "), "meta"));
    b.addEventListener("click", () => showCase(c.id));
    return b;
  }

  async function loadList(more) {
    if (!me) return;
    if (!more) await loadTabs();
    const t = tabs.find((x) => x.key === tab);
    if (!t) {
      loading.hidden = true;
      list.replaceChildren(bilingual("p", "没有可查看的工单", "No cases for you here", "empty"));
      return;
    }
    const params = filters();
    params.set("sort", t.key === "closed" ? "opened" : "due");
    params.set("per_page", String(PAGE));
    params.set("page", String(more ? Math.floor(shown / PAGE) + 1 : 1));
    if (t.states) params.set("state", t.states.join(","));
    if (t.overdue) params.set("overdue", "true");
    if (t.party) params.set("party", t.party);
    const r = await api("/api/v1/cases?" + params);
    const body = await r.json();
    loading.hidden = true;
    list.removeAttribute("aria-busy");
    if (!more) {
      list.replaceChildren();
      shown = 0;
    } else {
      list.querySelector(".more")?.remove();
    }
    if (!body.items.length && !shown) list.append(bilingual("p", "这里没有工单", "Nothing here", "empty"));
    for (const c of body.items) list.append(card(c));
    shown += body.items.length;
    if (shown < body.total) {
      const b = bilingual("button", "更多（还有 " + (body.total - shown) + " 件）", "More", "secondary more");
      b.type = "button";
      b.addEventListener("click", () => loadList(true));
      list.append(b);
    }
  }

  function asked() {
    // a tab, a search or a filter the person chose: say it is loading until it is here
    // (not for the refreshes the live alerts make, which would only flicker)
    loading.hidden = list.childElementCount > 0; // the old list stays, dimmed: nothing moves under a finger
    list.setAttribute("aria-busy", "true");
    refreshList();
  }

  let typing = null;
  find.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(asked, 250); // as the dispatcher types, not on every key
  });
  find.addEventListener("submit", (ev) => {
    ev.preventDefault();
    asked();
  });
  find.addEventListener("change", (ev) => {
    if (ev.target.tagName === "SELECT") asked(); // the search box has its own (input)
  });

  // the filters' choices are fetched the first time they are opened, not on every load
  let choices = false;
  document.getElementById("filters").addEventListener("toggle", async (ev) => {
    if (!ev.target.open || choices) return;
    choices = true;
    let sr, ar;
    try {
      [sr, ar] = await Promise.all([api("/api/v1/scenarios"), api("/api/v1/areas")]);
    } catch (e) {
      choices = false; // offline: try again next time
      return;
    }
    for (const [value, n] of names.entries("severities")) find.severity.append(option(value, n.zh, n.en));
    if (sr.ok) for (const s of await sr.json()) find.scenario.append(option(s.id, s.name_zh, s.name_en));
    if (ar.ok) for (const a of await ar.json()) if (a.level !== "district") find.area.append(option(a.code, a.name));
  });

  // an option in the chosen language; with both names it switches with the page (data-zh/en)
  function option(value, label, en) {
    const o = text("option", en ? pick(label, en) : label);
    if (en) Object.assign(o.dataset, { zh: label, en });
    o.value = value;
    return o;
  }

  // the countdowns go on between loads (at a replay's speed too), and follow each re-sync
  function relabel() {
    for (const el of list.querySelectorAll(".case[data-due]")) {
      if (!el.dataset.due) continue;
      const d = due(el.dataset.due);
      const span = el.querySelector(".due");
      span.textContent = d.label;
      span.className = "due " + d.cls;
    }
    const left = detail.querySelector(".left[data-due]");
    if (left) {
      const d = due(left.dataset.due);
      left.textContent = d.label;
      left.className = "left " + d.cls;
    }
  }
  setInterval(relabel, 15000);
  clock.onSync(relabel);

  // -- the case ------------------------------------------------------------------------
  async function openCase(id) {
    document.body.dataset.view = "case";
    let r;
    try {
      r = await api("/api/v1/cases/" + encodeURIComponent(id));
    } catch (e) {
      detail.hidden = false;
      detail.replaceChildren(backButton(), bilingual("p", "离线：联网后再打开", "Offline: open it when the network is back", "error"));
      return;
    }
    if (!r.ok) {
      detail.hidden = false;
      detail.replaceChildren(backButton(), bilingual("p", "找不到这个工单，或您无权查看", "No such case for you", "error"));
      return;
    }
    render(await r.json(), r.headers.get("etag"));
  }

  let listScroll = 0; // where the phone's list was when a case replaced it

  function closeCase() {
    const wasCase = document.body.dataset.view === "case";
    document.body.dataset.view = "list";
    if (wasCase && window.matchMedia("(max-width: 899px)").matches) window.scrollTo(0, listScroll);
    current = null;
    detail.hidden = true;
    for (const el of list.querySelectorAll('.case[aria-current="true"]')) el.removeAttribute("aria-current");
  }

  function backButton() {
    const b = bilingual("button", "‹ 返回列表", "Back", "secondary back");
    b.type = "button";
    b.addEventListener("click", () => {
      if (history.state && history.state.desk) history.back(); // the browser's back does the same
      else location.hash = "";
    });
    return b;
  }

  function photo(ref, caption) {
    const f = document.createElement("figure");
    const a = document.createElement("a");
    a.href = "/api/v1/attachments/" + encodeURIComponent(ref);
    a.target = "_blank";
    const img = document.createElement("img");
    img.className = "thumb";
    img.alt = caption;
    img.loading = "lazy";
    img.src = a.href;
    // a reference whose file is not (or no longer) here: say so, not a broken image
    img.addEventListener("error", () => a.replaceWith(bilingual("span", "照片无法显示", "Photo unavailable", "nophoto")));
    a.append(img);
    f.append(a, text("figcaption", caption));
    return f;
  }

  function handledPhotos(c) {
    // the handlers' photos, newest first (the timeline keeps them with each move)
    const out = [];
    for (const e of c.timeline) for (const ref of e.attachments || []) out.push({ ref, at: e.at, who: e.actor_name });
    return out.reverse();
  }

  function facts(rows) {
    const dl = document.createElement("dl");
    dl.className = "facts";
    for (const [label, value] of rows) {
      if (value == null || value === "") continue;
      dl.append(text("dt", label));
      const dd = document.createElement("dd");
      dd.append(value);
      dl.append(dd);
    }
    return dl;
  }

  function drawMap(box, place) {
    // no tiles unless configured (works offline, as the portal and cockpit): the area's outline and the point
    if (map) {
      map.remove();
      map = null;
    }
    map = window.cityeye.caseMap(box, place);
  }

  function render(c, etag, message) {
    current = c;
    document.body.dataset.view = "case";
    for (const el of list.querySelectorAll(".case")) el.toggleAttribute("aria-current", el.dataset.case === c.id);
    detail.hidden = false;
    detail.dataset.state = c.state; // for styles and tests; never shown
    detail.replaceChildren(backButton(), text("h2", c.heading || c.title));
    detail.append(text("p", [names.shown("case_states", c.state), severity(c.severity), c.area ? c.area.name : ""].filter(Boolean).join(" · "), "meta"));
    if (message) detail.append(text("p", message, "error"));
    const sup = c.supervision && c.supervision.supervise;
    if (sup) {
      const banner = document.createElement("div");
      banner.className = "supervision";
      banner.setAttribute("role", "alert");
      banner.append(text("b", pick("领导督办", "Supervised") + " · " + sup.by + " · " + time.minutes(sup.at)), text("p", sup.note));
      detail.append(banner);
    }
    const top = document.createElement("div");
    top.className = "case-top";
    const left = document.createElement("div");
    const d = due(c.due_at);
    const dueEl = text("span", c.closed_at ? pick("已结束", "Ended") : d.label, "left " + (c.closed_at ? "" : d.cls));
    if (!c.closed_at && c.due_at) dueEl.dataset.due = c.due_at;
    const place = c.place || {};
    left.append(
      facts([
        [pick("工单号", "Case"), c.id],
        [pick("地点", "Place"), [(c.area_path || []).slice(1).map((a) => a.name).join(" › "), place.name && !(c.area_path || []).some((a) => a.name === place.name) ? place.name : ""].filter(Boolean).join(" · ")],
        [pick("时限", "Due"), c.due_at ? time.minutes(c.due_at) : pick("无", "none")],
        [pick("剩余", "Left"), dueEl],
        [pick("主办", "Lead"), c.lead ? c.lead.name : pick("未派遣", "not sent yet")],
        [pick("协办", "Also"), (c.co_handlers || []).map((p) => p.name).join("、")],
        [pick("上报人", "Reporter"), c.reporter_contact ? pick("联系方式 ", "contact ") + c.reporter_contact : ""],
      ]),
    );
    if (c.why && c.origin !== "citizen") {
      // a resident's report speaks for itself (below); a device's alert says why it fired
      const why = document.createElement("div");
      why.className = "why";
      why.append(text("b", pick("为什么立案：", "Why this case: ") + c.why.name));
      if (c.why.text) why.append(text("span", c.why.text));
      if (c.why.count > 1) why.append(text("div", pick("共发现 " + c.why.count + " 次，首次 ", c.why.count + " times, first at ") + time.minutes(c.why.first_at)));
      if (c.why.score) why.append(window.cityeye.scoreCard(c.why.score));
      left.append(why);
    }
    if (c.report_text) left.append(facts([[pick("居民描述", "Resident said"), c.report_text]]));
    const mapBox = document.createElement("div");
    mapBox.className = "casemap";
    mapBox.setAttribute("role", "img");
    mapBox.setAttribute("aria-label", pick("位置 ", "Place ") + (place.name || ""));
    top.append(left, mapBox);
    detail.append(top);
    drawMap(mapBox, place);
    const before = c.photos || [];
    const after = handledPhotos(c);
    if (before.length || after.length) {
      detail.append(bilingual("h3", "照片", "Photos"));
      const ph = document.createElement("div");
      ph.className = "photos";
      for (const ref of before) ph.append(photo(ref, pick("上报时（处置前）", "Reported (before)")));
      for (const p of after) ph.append(photo(p.ref, p.who + " · " + time.short(p.at)));
      detail.append(ph);
    }
    detail.append(bilingual("h3", "办理经过", "Timeline"));
    const tl = document.createElement("ol");
    tl.className = "timeline";
    for (const e of c.timeline) {
      const li = document.createElement("li");
      const line = [names.shown(names.TIMELINE, e.action), e.actor_name || "", e.text != null ? e.text : e.note].filter(Boolean).join(" · ");
      li.append(text("time", time.full(e.at)), text("span", line));
      for (const ref of e.attachments || []) {
        const img = document.createElement("img");
        img.className = "thumb";
        img.alt = pick("照片", "photo");
        img.src = "/api/v1/attachments/" + encodeURIComponent(ref);
        img.addEventListener("error", () => img.replaceWith(bilingual("span", "照片无法显示", "Photo unavailable", "nophoto")));
        li.append(img);
      }
      tl.append(li);
    }
    detail.append(tl);
    // the server says what I may do here (the case lifecycle, for my role): no table
    // of our own that could drift from it
    const moves = c.moves || [];
    if (!moves.length) return;
    const form = document.getElementById("moves").content.firstElementChild.cloneNode(true);
    const buttons = form.querySelector(".buttons");
    if (moves.some((m) => m.party)) form.prepend(partyPicker(c));
    if (moves.some((m) => CHECKS.has(m.action))) form.prepend(checkBox(c, after));
    for (const m of moves) {
      const b = text("button", names.shown(["actions", "notes"], m.action), DANGER.has(m.action) ? "danger" : m.action === "progress" ? "secondary" : "");
      b.type = "button";
      b.dataset.action = m.action;
      b.addEventListener("click", () => submit(c, etag, m, form));
      buttons.append(b);
    }
    detail.append(form);
    if (window.matchMedia("(max-width: 899px)").matches) window.scrollTo(0, 0);
  }

  function checkBox(c, after) {
    // verifying or closing judges the handler's work: look at what they sent first
    const box = document.createElement("div");
    box.className = "check";
    box.append(bilingual("b", "核查处置结果", "Check the result"));
    if (after.length) {
      const ph = document.createElement("div");
      ph.className = "photos";
      ph.append(photo(after[0].ref, pick("处置后 · ", "After · ") + after[0].who));
      box.append(ph);
    } else {
      box.append(bilingual("p", "处置人员没有上传照片", "The handler sent no photo", "why-party"));
    }
    const handled = [...c.timeline].reverse().find((e) => e.to === "handled");
    if (handled && handled.note) box.append(text("p", pick("处置说明：", "Handler's note: ") + handled.note));
    return box;
  }

  function partyPicker(c) {
    // the parties the routing rules would choose, the grid's worker, 居委会 and property
    // first (GET .../candidates, in my scope), the rest by typing a name
    const box = document.createElement("div");
    box.className = "picker";
    const label = text("label", pick("派往 ", "Send to "));
    const search = document.createElement("input");
    search.type = "search";
    search.placeholder = pick("输入单位名称查找", "Find a unit");
    search.setAttribute("aria-label", pick("查找处置单位", "Find a unit"));
    const select = document.createElement("select");
    select.name = "party";
    select.setAttribute("aria-label", pick("处置单位", "Unit"));
    const why = text("p", "", "why-party");
    label.append(search, select);
    box.append(label, why);
    let got = [];
    const explain = () => {
      const p = got.find((x) => x.id === select.value);
      why.textContent = p ? [p.kind_zh, p.reason || "", pick("在办 " + p.load + " 件", p.load + " open")].filter(Boolean).join(" · ") : "";
    };
    async function fill() {
      const q = search.value.trim();
      let r;
      try {
        r = await api("/api/v1/cases/" + encodeURIComponent(c.id) + "/candidates" + (q ? "?q=" + encodeURIComponent(q) : ""));
      } catch (e) {
        why.textContent = pick("离线：联网后可选择单位", "Offline: pick a unit when back online");
        return;
      }
      if (!r.ok) return;
      got = (await r.json()).items;
      select.replaceChildren();
      for (const p of got) {
        const o = text("option", (p.proposed ? "★ " : "") + p.name + " · " + p.kind_zh + pick(" · 在办 ", " · open ") + p.load);
        o.value = p.id;
        select.append(o);
      }
      if (!got.length) select.append(option("", pick("没有找到", "No match")));
      explain();
    }
    let wait = null;
    search.addEventListener("input", () => {
      clearTimeout(wait);
      wait = setTimeout(fill, 250);
    });
    search.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") ev.preventDefault();
    });
    select.addEventListener("change", explain);
    fill();
    return box;
  }

  async function upload(file) {
    const r = await api("/api/v1/attachments", {
      method: "POST",
      headers: { "content-type": file.type },
      body: file,
    });
    const body = await r.json();
    if (!r.ok) throw new Error(lang.refusal(r.status, body.detail, { photos: PHOTO_REFUSED }));
    return body.ref;
  }

  async function send(move) {
    return api("/api/v1/cases/" + encodeURIComponent(move.id) + "/actions", {
      method: "POST",
      headers: { "content-type": "application/json", "if-match": move.etag },
      body: JSON.stringify({ action: move.action, note: move.note, photos: move.photos, ...(move.party ? { party: move.party } : {}) }),
    });
  }

  async function submit(c, etag, m, form) {
    const action = m.action;
    const error = form.querySelector(".error");
    const note = form.note.value.trim();
    if (m.reason && !note) {
      error.textContent = pick("请填写原因", "Say why in the note");
      error.hidden = false;
      return;
    }
    for (const b of form.querySelectorAll("button")) b.disabled = true; // no double submit
    error.hidden = true;
    const move = { id: c.id, etag, action, note, photos: [] };
    if (m.party) {
      move.party = form.party.value;
      if (!move.party) {
        error.textContent = pick("请选择处置单位", "Pick a unit");
        error.hidden = false;
        for (const b of form.querySelectorAll("button")) b.disabled = false;
        return;
      }
    }
    try {
      const file = form.photo.files[0];
      if (file) move.photos.push(await upload(file));
      const r = await send(move);
      const body = await r.json();
      if (r.status === 409) return render(body.current, r.headers.get("etag"), pick("工单已被他人更新，请重新确认", "Changed by someone else: check again"));
      if (!r.ok) throw new Error(lang.refusal(r.status, body.detail, MOVE_REFUSALS));
      if (r.status === 202) return settle(c, etag); // a bus worker applies it: wait for it
      render(body, r.headers.get("etag"));
      loadList();
    } catch (e) {
      if (e instanceof TypeError && !move.photos.length && !form.photo.files.length) {
        queue(move); // the network is down: keep it for later
        render(c, etag, pick("已保存，联网后提交", "Saved: sent when back online"));
      } else {
        error.textContent = pick("未提交：", "Not sent: ") + e.message;
        error.hidden = false;
      }
    } finally {
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  }

  async function settle(c, etag, tries = 0) {
    // under --bus the move is queued for the worker that holds the case (202): look
    // again until the case's version moves on, then show it as it is
    const r = await api("/api/v1/cases/" + encodeURIComponent(c.id));
    const now = r.ok ? r.headers.get("etag") : etag;
    if (r.ok && now !== etag) {
      render(await r.json(), now);
      loadList();
    } else if (tries < 20) {
      render(c, etag, pick("已提交，处理中…", "Sent, being applied…"));
      setTimeout(() => settle(c, etag, tries + 1), 1000);
    } else {
      render(c, etag, pick("已提交，稍后刷新查看", "Sent: refresh in a moment to see it"));
    }
  }

  function queued() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }

  function mine(move) {
    return me !== null && move.owner === me.id;
  }

  function queue(move) {
    const all = queued();
    all.push({ ...move, owner: me.id, owner_name: me.display_name || me.username });
    localStorage.setItem(QUEUE, JSON.stringify(all));
    showNet();
  }

  let dropped = 0; // moves queued before moves had owners: nobody can say whose they are

  async function flush() {
    if (me === null) return; // not signed in yet: start() flushes once it knows who
    const pending = queued();
    const left = [];
    let sent = 0;
    for (const move of pending) {
      if (!move.owner) {
        dropped += 1;
        continue;
      }
      if (!mine(move)) {
        left.push(move); // someone else's: kept for when they sign in here again
        continue;
      }
      try {
        await send(move); // 200 applied; 409 or 422: the case moved on, nothing doubled
        sent += 1;
      } catch (e) {
        left.push(move); // still offline
      }
    }
    localStorage.setItem(QUEUE, JSON.stringify(left));
    showNet();
    if (sent) loadList();
  }

  function showNet() {
    const all = queued();
    const n = all.filter(mine).length;
    document.getElementById("queued").textContent = n;
    document.getElementById("net").hidden = navigator.onLine && !n;
    const others = all.filter((m) => m.owner && !mine(m));
    const note = document.getElementById("others");
    const names = [...new Set(others.map((m) => m.owner_name))].join("、");
    const lines = [];
    if (others.length) {
      lines.push(pick(others.length + " 条离线操作属于 " + names + "，待其本人登录后提交", others.length + " offline move(s) by " + names + " wait for them to sign in here"));
    }
    if (dropped) {
      lines.push(pick(dropped + " 条无法确认操作人的离线操作已丢弃", dropped + " offline move(s) of unknown owner discarded"));
    }
    note.textContent = lines.join("\n");
    note.hidden = !lines.length;
  }

  // -- live alerts (issue 15) ---------------------------------------------------------
  // Every notification of mine has a sequence number. The stream
  // (/api/v1/notifications/stream, SSE) pushes them as they happen and resumes after a
  // drop with Last-Event-ID; when it fails STREAM_TRIES times in a row, or the browser
  // has no EventSource, the desk asks the list (/api/v1/notifications?after=) every
  // POLL_MS instead, and tries the stream again now and then. `seen` keeps the ones
  // shown, so a notification that comes both ways (the list filling a gap while the
  // stream catches up) is announced once.
  const STREAM = "/api/v1/notifications/stream";
  // 1.5 s: a dispatch still reaches a polling desk within 2 s (issue 15); a small
  // indexed query per open desk, affordable for a street office's few dozen desks
  const POLL_MS = 1500;
  const STREAM_TRIES = 3;
  const STREAM_AGAIN_MS = 60000; // while polling: try the stream again this often
  const LOUD = new Set(["dispatched", "critical", "supervised", "urged"]); // the notices that sound and show a banner
  // the routine's (日提醒、周通报、月考核): a banner and a system notification, no sound —
  // a morning's reminder is news, not an emergency
  const ROUTINE = new Set(["reminder", "bulletin", "result"]);
  const MODE = { live: ["实时", "Live"], poll: ["轮询", "Polling"], off: ["离线", "Offline"] };
  const seen = new Set();
  const fresh = new Set(); // cases announced while the desk is open: marked in the list
  let cursor = 0; // the highest sequence number seen
  let source = null; // the EventSource while there is one
  let polling = null; // the poll timer while polling
  let streamTried = 0;

  function setMode(mode) {
    const el = document.getElementById("live");
    el.dataset.mode = mode;
    el.replaceChildren(...bilingual("span", ...MODE[mode]).childNodes);
  }

  async function since(after) {
    // every notification after `after`, page by page
    const all = [];
    for (;;) {
      const r = await api("/api/v1/notifications?limit=100&after=" + after);
      if (!r.ok) throw new Error("notifications: " + r.status);
      const body = await r.json();
      all.push(...body.items);
      if (body.items.length < 100) return { items: all, last: Math.max(after, Number(body.last) || 0) };
      after = Math.max(...body.items.map((n) => n.seq));
    }
  }

  function take(items, announce) {
    const news = items.filter((n) => !seen.has(n.seq)).sort((a, b) => a.seq - b.seq);
    if (!news.length) return;
    for (const n of news) {
      seen.add(n.seq);
      cursor = Math.max(cursor, n.seq);
    }
    if (announce) {
      const loud = news.filter((n) => LOUD.has(n.kind));
      for (const n of loud) {
        fresh.add(n.case_id);
        toast(n);
        notify(n);
      }
      if (loud.length) beep(loud.some(critical));
      const routine = news.filter((n) => ROUTINE.has(n.kind));
      for (const n of routine) {
        toast(n);
        notify(n);
      }
      remember(routine);
    }
    refreshList(); // handled, closed, escalated: the queue changed too
  }

  async function catchUp() {
    const got = await since(cursor);
    take(got.items, true);
  }

  function connect() {
    if (!window.EventSource) return startPolling();
    streamTried = Date.now();
    const es = new EventSource(STREAM) // same origin: the session cookie goes with it;
    source = es;
    let failed = 0;
    es.addEventListener("open", () => {
      failed = 0;
      stopPolling();
      setMode("live");
      catchUp().catch(() => {}); // whatever came while there was no stream
    });
    es.addEventListener("notification", (ev) => take([JSON.parse(ev.data)], true));
    es.addEventListener("error", () => {
      failed += 1;
      if (es.readyState === EventSource.CLOSED || failed >= STREAM_TRIES || polling) {
        es.close(); // refused (401, 404) or not holding: poll instead
        if (source === es) source = null;
        startPolling();
      } else {
        setMode("off"); // the browser reconnects by itself, with Last-Event-ID
      }
    });
  }

  function startPolling() {
    if (polling) return;
    const tick = async () => {
      try {
        await catchUp();
        setMode("poll");
      } catch (e) {
        setMode("off");
      }
      if (!polling) return; // the stream opened meanwhile
      if (window.EventSource && !source && Date.now() - streamTried > STREAM_AGAIN_MS) connect();
      polling = setTimeout(tick, POLL_MS);
    };
    polling = setTimeout(tick, 0);
  }

  function stopPolling() {
    clearTimeout(polling);
    polling = null;
  }

  // The routine's notices (a morning's reminder) are written whether the desk is open
  // or not: one from the last day that this device has not shown yet is shown as a
  // banner when the desk opens (quietly: no sound, no system notification), once.
  const SEEN_ROUTINE = "cityeye.desk.routine-seen";
  const DAY_MS = 86400000;

  function shownBefore() {
    try { return new Set(JSON.parse(localStorage.getItem(SEEN_ROUTINE) || "[]")); } catch (e) { return new Set(); }
  }

  function remember(items) {
    if (!items.length) return;
    const all = shownBefore();
    for (const n of items) all.add(n.seq);
    localStorage.setItem(SEEN_ROUTINE, JSON.stringify([...all].sort((a, b) => a - b).slice(-50)));
  }

  function missedRoutine(items) {
    const before = shownBefore();
    const since = clock.now() - DAY_MS;
    const missed = items.filter((n) => ROUTINE.has(n.kind) && !before.has(n.seq) && Date.parse(n.at) > since);
    for (const n of missed) toast(n);
    remember(missed);
  }

  async function goLive() {
    // what came before the desk opened is in the queue already: no alert for it, only
    // for what comes after the newest one now (without `after`, the list gives the
    // newest); the day's routine notices not shown here yet are shown once
    try {
      const r = await api("/api/v1/notifications?limit=20");
      if (r.ok) {
        const body = await r.json();
        cursor = Number(body.last) || 0;
        missedRoutine(body.items);
      }
    } catch (e) {
      /* the network is away: the stream or the polls will say so */
    }
    connect();
  }

  function critical(n) {
    return n.kind === "critical" || n.severity === "critical";
  }

  // the alert's heading: 紧急工单 Critical case for a critical one, else 新派工单 New case
  function label(n) {
    const own = ["supervised", "urged", ...ROUTINE];
    const kind = critical(n) ? "critical" : own.includes(n.kind) ? n.kind : "dispatched";
    return [names.zh("notice_kinds", kind), names.en("notice_kinds", kind)];
  }

  function place(n) {
    // the notice's words name the place (its `area` is a code, not for reading)
    if (!n.case_id) return time.hm(n.at); // the routine's: about no one case
    return [pick("工单号 ", "Case ") + n.case_id, time.hm(n.at)].join(" · "); // its words already say how urgent
  }

  function showCase(id) {
    // each case opened is a step in the browser's history: its back button (and the
    // desk's own) goes back to the list, on a phone where the case replaced it
    if (document.body.dataset.view === "list") listScroll = window.scrollY;
    const hash = "#case=" + encodeURIComponent(id);
    if (location.hash !== hash) history.pushState({ desk: true }, "", hash);
    openCase(id);
  }

  function opened(n) {
    // a case's notice opens the case; the routine's open what they are about: the
    // overdue tab (a reminder), the bulletin's file or the board (a result)
    if (n.case_id) return showCase(n.case_id);
    const m = (n.url || "").match(/^\/desk#tab=(.+)$/);
    if (m) return showTab(decodeURIComponent(m[1]));
    if (n.url) location.assign(n.url);
  }

  function showTab(key) {
    if (document.body.dataset.view !== "list") closeCase();
    tab = key;
    loadTabs().then(asked);
  }

  function toast(n) {
    const box = document.getElementById("toasts");
    const about = n.case_id || n.kind; // a later notice about the same thing replaces it
    for (const old of box.querySelectorAll(".toast")) if (old.dataset.case === about) old.remove();
    const t = document.createElement("div");
    t.className = "toast" + (critical(n) ? " critical" : "");
    t.dataset.case = about;
    t.setAttribute("role", "alert");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.append(bilingual("span", ...label(n), "kind"), text("span", n.text || n.title, "title"));
    open.append(text("span", place(n), "meta"), bilingual("span", "点此查看", "Tap to open", "hint"));
    open.addEventListener("click", () => {
      t.remove();
      opened(n);
    });
    const close = text("button", "×", "close");
    close.type = "button";
    close.title = pick("关闭", "Dismiss");
    close.setAttribute("aria-label", pick("关闭", "Dismiss"));
    close.addEventListener("click", () => t.remove());
    t.append(open, close);
    box.prepend(t);
    while (box.children.length > 3) box.lastElementChild.remove();
    if (!critical(n)) setTimeout(() => t.remove(), 60000); // a critical one stays until dismissed
  }

  async function notify(n) {
    if (!window.Notification || Notification.permission !== "granted") return;
    const title = n.title + " · " + label(n)[1]; // 新案件 C000123 · New case
    const options = {
      body: [n.text, place(n)].filter(Boolean).join("\n"),
      tag: n.case_id ? "case-" + n.case_id : n.kind, // a later alert for the same case replaces this one
      renotify: true,
      requireInteraction: critical(n),
      icon: "/static/desk/icon-192.png",
      lang: "zh-CN",
      data: { url: n.url },
    };
    try {
      const note = new Notification(title, options);
      note.addEventListener("click", () => {
        window.focus();
        note.close();
        opened(n);
      });
    } catch (e) {
      // phones allow notifications only through the service worker (sw.js opens the case)
      const reg = navigator.serviceWorker && (await navigator.serviceWorker.getRegistration("/desk"));
      if (reg) await reg.showNotification(title, options);
    }
  }

  // browsers start sound only after the user touched the page: the first tap does it
  const unlockAudio = () => window.cityeye.sound.unlock();

  function beep(urgent) {
    // a short chime (common.js, no sound file): two rising notes, four alternating for a critical case
    window.cityeye.sound.chime(urgent ? [988, 740, 988, 740] : [784, 1047]);
  }

  const alertsButton = document.getElementById("alerts");
  function offerAlerts() {
    // asked only when the handler taps "turn on alerts", never as the page opens
    alertsButton.hidden = !window.Notification || Notification.permission !== "default";
  }
  alertsButton.addEventListener("click", async () => {
    unlockAudio();
    beep(false); // what an alert sounds like
    if (window.Notification) await Notification.requestPermission();
    offerAlerts();
  });
  for (const gesture of ["pointerdown", "keydown"]) document.addEventListener(gesture, unlockAudio, { once: true });

  let listing = null;
  let listAgain = false;
  function refreshList() {
    if (listing) {
      listAgain = true;
      return;
    }
    listing = loadList()
      .catch(() => {})
      .finally(() => {
        listing = null;
        if (listAgain) {
          listAgain = false;
          refreshList();
        }
      });
  }

  function caseInHash() {
    const m = location.hash.match(/^#case=(.+)$/);
    return m ? decodeURIComponent(m[1]) : null;
  }
  function tabInHash() {
    // /desk#tab=overdue: where a daily reminder opens the desk
    const m = location.hash.match(/^#tab=(.+)$/);
    return m ? decodeURIComponent(m[1]) : null;
  }
  window.addEventListener("hashchange", () => {
    // the browser's back and forward, or a link to a case or a tab
    if (!me) return;
    const id = caseInHash();
    if (id) openCase(id);
    else if (tabInHash()) showTab(tabInHash());
    else closeCase();
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/desk-sw.js", { scope: "/desk" }).catch(() => {}); // http on a LAN address: no worker, the desk works the same
    navigator.serviceWorker.onmessage = (ev) => {
      // a tapped notification (sw.js): open its case here
      const url = ev.data && ev.data.open ? new URL(ev.data.open) : null;
      const m = url && url.hash.match(/^#case=(.+)$/);
      const k = url && url.hash.match(/^#tab=(.+)$/);
      if (m) showCase(decodeURIComponent(m[1]));
      else if (k) showTab(decodeURIComponent(k[1]));
    };
  }

  document.getElementById("logout").addEventListener("click", async (ev) => {
    ev.preventDefault();
    await api("/api/v1/auth/logout", { method: "POST" });
    location.assign("/login");
  });
  window.addEventListener("online", () => {
    flush();
    if (me && !source && !polling) connect();
  });
  window.addEventListener("offline", () => {
    showNet();
    setMode("off");
  });

  // what this script wrote, again in the chosen language
  lang.onChange(() => {
    if (!me) return;
    document.getElementById("who").textContent = me.display_name + pick("（", " (") + names.shown("user_roles", me.role) + pick("）", ")");
    setMode(document.getElementById("live").dataset.mode || "off");
    refreshList();
    if (current) openCase(current.id);
  });

  async function start() {
    let r;
    try {
      [r] = await Promise.all([api("/api/v1/auth/me"), names.load(), clock.ready]);
    } catch (e) {
      // started from the kept shell with the network away (sw.js): wait for it
      setMode("off");
      loading.hidden = true;
      list.replaceChildren(bilingual("p", "离线：联网后显示我的工单", "Offline: your cases show when the network is back", "empty"));
      window.addEventListener("online", start, { once: true });
      return;
    }
    me = await r.json();
    if (tabInHash()) tab = tabInHash(); // opened from a daily reminder
    document.getElementById("who").textContent = me.display_name + pick("（", " (") + names.shown("user_roles", me.role) + pick("）", ")");
    showNet();
    offerAlerts();
    await flush();
    await loadList();
    if (caseInHash()) openCase(caseInHash()); // opened from a notification or a link
    await goLive();
  }
  start();
})();
