// The handler desk (处置端): my cases by deadline, a case's timeline, and its moves.
//
// Every move carries If-Match with the version the handler saw, so a move is never
// applied twice: a second tap, or a move re-sent after the network came back, gets 409
// instead of a second change. Moves made while offline wait in localStorage and are
// sent when the browser is online again (photos need the network: they are uploaded
// first, and a queued move only keeps their references). A queued move belongs to the
// person who made it: it is sent only while they are signed in, never under whoever
// signs in next on a shared phone; the others wait for their owner, and the desk says so.
"use strict";
(function () {
  const QUEUE = "cityeye.desk.queue";
  const WORKING = ["dispatched", "accepted", "in_progress", "returned", "reopened", "escalated"];
  // role → state → the moves offered there (the server's lifecycle has the last word)
  const HANDLER = {
    dispatched: ["accept", "return"],
    reopened: ["accept", "return"],
    escalated: ["accept", "arrive", "handle", "return"],
    accepted: ["arrive", "handle", "progress", "return"],
    in_progress: ["handle", "progress", "return"],
  };
  const DISPATCHER = {
    reported: ["dispatch", "dismiss"],
    returned: ["dispatch", "dismiss"],
    escalated: ["dispatch", "dismiss", "progress"],
    reopened: ["dispatch", "progress"],
    dispatched: ["progress"],
    accepted: ["progress"],
    in_progress: ["progress"],
    handled: ["verify", "reopen"],
    verified: ["close"],
  };
  const MOVES = { handler: HANDLER, dispatcher: DISPATCHER, admin: DISPATCHER };
  const LISTED = {
    handler: WORKING,
    dispatcher: ["reported", "handled", "verified", ...WORKING],
    admin: ["reported", "handled", "verified", ...WORKING],
    leader: ["reported", "handled", "verified", ...WORKING],
  };
  const REASON = new Set(["return", "dismiss", "reopen", "handle"]); // these must say why
  const DANGER = new Set(["return", "dismiss", "reopen"]);
  const LABEL = {
    accept: "受理 Accept",
    arrive: "到场 On site",
    handle: "处置完成 Handled",
    return: "退回 Return",
    progress: "记录进展 Progress note",
    dispatch: "派遣 Dispatch",
    dismiss: "误报撤销 Dismiss",
    verify: "核查通过 Verify",
    reopen: "重新处置 Reopen",
    close: "结案 Close",
    open: "立案 Opened",
    escalate: "升级 Escalated",
    co_handle: "协办 Co-handling",
    rate: "居民评价 Rated",
    self_resolve: "自动消警 Resolved itself",
    alert_joined: "预警并入 Alert joined",
    priority_raised: "提升优先级 Priority raised",
    reported_late: "迟到补报 Reported late",
  };
  let parties = [];
  let parents = {};
  const list = document.getElementById("list");
  const detail = document.getElementById("detail");
  let me = null;

  const { csrf, api } = window.cityeye; // static/session.js
  const clock = window.cityeye.clock; // static/clock.js: the server's time, not the phone's

  function text(tag, content, cls) {
    const el = document.createElement(tag);
    el.textContent = content; // never innerHTML: case text comes from residents
    if (cls) el.className = cls;
    return el;
  }

  function due(iso) {
    if (!iso) return { label: "无时限 no deadline", cls: "" };
    const minutes = Math.round((new Date(iso) - clock.now()) / 60000);
    const abs = Math.abs(minutes);
    const span = abs >= 1440 ? Math.round(abs / 1440) + "天 d" : abs >= 60 ? Math.round(abs / 60) + "小时 h" : abs + "分 min";
    if (minutes < 0) return { label: "超期 overdue " + span, cls: "overdue" };
    return { label: "剩 " + span + " left", cls: minutes < 120 ? "soon" : "" };
  }

  async function loadList() {
    const states = LISTED[me.role] || WORKING;
    const r = await api("/api/v1/cases?per_page=200&state=" + states.join(","));
    const body = await r.json();
    const cases = body.items.sort((a, b) => (a.due_at || "9999").localeCompare(b.due_at || "9999"));
    list.replaceChildren();
    if (!cases.length) list.append(text("p", "没有待办工单 Nothing to do", "empty"));
    for (const c of cases) {
      const card = document.createElement("button");
      card.className = "card case sev-" + c.severity;
      const d = due(c.due_at);
      card.dataset.due = c.due_at || "";
      card.append(text("span", d.label, "due " + d.cls), text("div", c.title, "title"));
      card.append(text("div", [c.state_zh, c.area ? c.area.name : "", c.id].join(" · "), "meta"));
      card.addEventListener("click", () => openCase(c.id));
      list.append(card);
    }
  }

  // the countdowns go on between loads (at a replay's speed too), and follow each re-sync
  function relabel() {
    for (const card of list.querySelectorAll(".case[data-due]")) {
      const d = due(card.dataset.due);
      const span = card.querySelector(".due");
      span.textContent = d.label;
      span.className = "due " + d.cls;
    }
  }
  setInterval(relabel, 15000);
  clock.onSync(relabel);

  async function openCase(id) {
    const r = await api("/api/v1/cases/" + encodeURIComponent(id));
    if (!r.ok) return;
    render(await r.json(), r.headers.get("etag"));
  }

  function render(c, etag, message) {
    detail.hidden = false;
    detail.replaceChildren(text("h2", c.title), text("p", [c.state_zh, c.severity, c.area ? c.area.name : ""].join(" · "), "meta"));
    if (message) detail.append(text("p", message, "error"));
    const tl = document.createElement("ol");
    tl.className = "timeline";
    for (const e of c.timeline) {
      const li = document.createElement("li");
      li.append(text("time", new Date(e.at).toLocaleString("zh-CN", { hour12: false })), text("span", [LABEL[e.action] || e.action, e.actor, e.note].filter(Boolean).join(" · ")));
      for (const ref of e.attachments || []) {
        const img = document.createElement("img");
        img.className = "thumb";
        img.alt = "照片 photo";
        img.src = "/api/v1/attachments/" + encodeURIComponent(ref);
        li.append(img);
      }
      tl.append(li);
    }
    detail.append(tl);
    const moves = (MOVES[me.role] || {})[c.state] || [];
    if (!moves.length) return;
    const form = document.getElementById("moves").content.firstElementChild.cloneNode(true);
    const buttons = form.querySelector(".buttons");
    if (moves.includes("dispatch")) form.prepend(partyPicker(c));
    for (const action of moves) {
      const b = text("button", LABEL[action], DANGER.has(action) ? "danger" : action === "progress" ? "secondary" : "");
      b.type = "button";
      b.addEventListener("click", () => submit(c, etag, action, form));
      buttons.append(b);
    }
    detail.append(form);
    detail.scrollIntoView({ behavior: "smooth" });
  }

  function covers(party, area) {
    // a party serves an area when the area lies inside one of the party's areas
    for (let a = area; a; a = parents[a]) if (party.areas.includes(a)) return true;
    return false;
  }

  function partyPicker(c) {
    const label = text("label", "派往 ");
    label.append(text("span", "Send to", ""));
    label.lastChild.lang = "en";
    const select = document.createElement("select");
    select.name = "party";
    const area = c.area ? c.area.code : null;
    const near = parties.filter((p) => area && covers(p, area));
    for (const p of [...near, ...parties.filter((p) => !near.includes(p))]) {
      const o = text("option", p.name + (p.non_government ? " · 共治 co-gov" : ""));
      o.value = p.id;
      select.append(o);
    }
    label.append(select);
    return label;
  }

  async function upload(file) {
    const r = await api("/api/v1/attachments", {
      method: "POST",
      headers: { "content-type": file.type, "x-csrf-token": csrf() },
      body: file,
    });
    const body = await r.json();
    if (!r.ok) throw new Error(body.detail);
    return body.ref;
  }

  async function send(move) {
    return api("/api/v1/cases/" + encodeURIComponent(move.id) + "/actions", {
      method: "POST",
      headers: { "content-type": "application/json", "if-match": move.etag, "x-csrf-token": csrf() },
      body: JSON.stringify({ action: move.action, note: move.note, photos: move.photos, ...(move.party ? { party: move.party } : {}) }),
    });
  }

  async function submit(c, etag, action, form) {
    const error = form.querySelector(".error");
    const note = form.note.value.trim();
    if (REASON.has(action) && !note) {
      error.textContent = "请填写原因 Say why in the note";
      error.hidden = false;
      return;
    }
    for (const b of form.querySelectorAll("button")) b.disabled = true; // no double submit
    error.hidden = true;
    const move = { id: c.id, etag, action, note, photos: [] };
    if (action === "dispatch") move.party = form.party.value;
    try {
      const file = form.photo.files[0];
      if (file) move.photos.push(await upload(file));
      const r = await send(move);
      const body = await r.json();
      if (r.status === 409) return render(body.current, r.headers.get("etag"), "工单已被他人更新，请重新确认 Changed by someone else: check again");
      if (!r.ok) throw new Error(body.detail);
      if (r.status === 202) return settle(c, etag); // a bus worker applies it: wait for it
      render(body, r.headers.get("etag"));
      loadList();
    } catch (e) {
      if (e instanceof TypeError && !move.photos.length && !form.photo.files.length) {
        queue(move); // the network is down: keep it for later
        render(c, etag, "已保存，联网后提交 Saved: sent when back online");
      } else {
        error.textContent = "未提交 Not sent: " + e.message;
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
      render(c, etag, "已提交，处理中… Sent, being applied…");
      setTimeout(() => settle(c, etag, tries + 1), 1000);
    } else {
      render(c, etag, "已提交，稍后刷新查看 Sent: refresh in a moment to see it");
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
      lines.push(others.length + " 条离线操作属于 " + names + "，待其本人登录后提交 · " + others.length + " offline move(s) by " + names + " wait for them to sign in here");
    }
    if (dropped) {
      lines.push(dropped + " 条无法确认操作人的离线操作已丢弃 · " + dropped + " offline move(s) of unknown owner discarded");
    }
    note.textContent = lines.join("\n");
    note.hidden = !lines.length;
  }

  document.getElementById("logout").addEventListener("click", async (ev) => {
    ev.preventDefault();
    await api("/api/v1/auth/logout", { method: "POST", headers: { "x-csrf-token": csrf() } });
    location.assign("/login");
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", showNet);

  (async function start() {
    const r = await api("/api/v1/auth/me");
    me = await r.json();
    document.getElementById("who").textContent = me.display_name + " (" + me.role + ")";
    if (me.role !== "handler") {
      const [p, a] = await Promise.all([api("/api/v1/parties"), api("/api/v1/areas")]);
      parties = await p.json();
      for (const area of await a.json()) parents[area.code] = area.parent;
    }
    showNet();
    await flush();
    await loadList();
  })();
})();
