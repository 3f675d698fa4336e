// The handler desk (处置端): my cases by deadline, a case's timeline, and its moves.
//
// Every move carries If-Match with the version the handler saw, so a move is never
// applied twice: a second tap, or a move re-sent after the network came back, gets 409
// instead of a second change. Moves made while offline wait in localStorage and are
// sent when the browser is online again (photos need the network: they are uploaded
// first, and a queued move only keeps their references).
"use strict";
(function () {
  const OPEN = "dispatched,accepted,in_progress,returned,reopened,escalated";
  const QUEUE = "cityeye.desk.queue";
  const ACTIONS = {
    // state → the moves a handler can make there (the server's lifecycle decides)
    dispatched: ["accept", "return"],
    reopened: ["accept", "return"],
    escalated: ["accept", "arrive", "handle", "return"],
    accepted: ["arrive", "handle", "return"],
    in_progress: ["handle", "return"],
  };
  const LABEL = {
    accept: "受理 Accept",
    arrive: "到场 On site",
    handle: "处置完成 Handled",
    return: "退回 Return",
  };
  const list = document.getElementById("list");
  const detail = document.getElementById("detail");
  let me = null;

  function csrf() {
    const m = document.cookie.match(/(?:^|;\s*)cityeye_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  async function api(path, options = {}) {
    const r = await fetch(path, { credentials: "same-origin", ...options });
    if (r.status === 401) {
      location.assign("/login?next=" + encodeURIComponent(location.pathname));
      return new Promise(() => {}); // the page is leaving: nothing more to do here
    }
    return r;
  }

  function text(tag, content, cls) {
    const el = document.createElement(tag);
    el.textContent = content; // never innerHTML: case text comes from residents
    if (cls) el.className = cls;
    return el;
  }

  function due(iso) {
    if (!iso) return { label: "无时限 no deadline", cls: "" };
    const minutes = Math.round((new Date(iso) - Date.now()) / 60000);
    const abs = Math.abs(minutes);
    const span = abs >= 1440 ? Math.round(abs / 1440) + "天 d" : abs >= 60 ? Math.round(abs / 60) + "小时 h" : abs + "分 min";
    if (minutes < 0) return { label: "超期 overdue " + span, cls: "overdue" };
    return { label: "剩 " + span + " left", cls: minutes < 120 ? "soon" : "" };
  }

  async function loadList() {
    const r = await api("/api/v1/cases?per_page=200&state=" + OPEN);
    const body = await r.json();
    const cases = body.items.sort((a, b) => (a.due_at || "9999").localeCompare(b.due_at || "9999"));
    list.replaceChildren();
    if (!cases.length) list.append(text("p", "没有待办工单 Nothing to do", "empty"));
    for (const c of cases) {
      const card = document.createElement("button");
      card.className = "card case sev-" + c.severity;
      const d = due(c.due_at);
      card.append(text("span", d.label, "due " + d.cls), text("div", c.title, "title"));
      card.append(text("div", [c.state_zh, c.area ? c.area.name : "", c.id].join(" · "), "meta"));
      card.addEventListener("click", () => openCase(c.id));
      list.append(card);
    }
  }

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
      li.append(text("time", new Date(e.at).toLocaleString("zh-CN", { hour12: false })), text("span", [e.action, e.actor, e.note].filter(Boolean).join(" · ")));
      tl.append(li);
    }
    detail.append(tl);
    const moves = ACTIONS[c.state] || [];
    if (!moves.length) return;
    const form = document.getElementById("moves").content.firstElementChild.cloneNode(true);
    const buttons = form.querySelector(".buttons");
    for (const action of moves) {
      const b = text("button", LABEL[action], action === "return" ? "danger" : "");
      b.type = "button";
      b.addEventListener("click", () => submit(c, etag, action, form));
      buttons.append(b);
    }
    detail.append(form);
    detail.scrollIntoView({ behavior: "smooth" });
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
      body: JSON.stringify({ action: move.action, note: move.note, photos: move.photos }),
    });
  }

  async function submit(c, etag, action, form) {
    const error = form.querySelector(".error");
    const note = form.note.value.trim();
    if (action === "return" && !note) {
      error.textContent = "退回须说明原因 A return needs the reason";
      error.hidden = false;
      return;
    }
    for (const b of form.querySelectorAll("button")) b.disabled = true; // no double submit
    error.hidden = true;
    const move = { id: c.id, etag, action, note, photos: [] };
    try {
      const file = form.photo.files[0];
      if (file) move.photos.push(await upload(file));
      const r = await send(move);
      const body = await r.json();
      if (r.status === 409) return render(body.current, r.headers.get("etag"), "工单已被他人更新，请重新确认 Changed by someone else: check again");
      if (!r.ok) throw new Error(body.detail);
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

  function queued() {
    try { return JSON.parse(localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }

  function queue(move) {
    const all = queued();
    all.push(move);
    localStorage.setItem(QUEUE, JSON.stringify(all));
    showNet();
  }

  async function flush() {
    const pending = queued();
    const left = [];
    for (const move of pending) {
      try {
        await send(move); // 200 applied; 409 or 422: the case moved on, nothing doubled
      } catch (e) {
        left.push(move); // still offline
      }
    }
    localStorage.setItem(QUEUE, JSON.stringify(left));
    showNet();
    if (pending.length !== left.length) loadList();
  }

  function showNet() {
    const n = queued().length;
    document.getElementById("queued").textContent = n;
    document.getElementById("net").hidden = navigator.onLine && !n;
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
    showNet();
    await flush();
    await loadList();
  })();
})();
