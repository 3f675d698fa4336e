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
  const WORKING = ["dispatched", "accepted", "in_progress", "returned", "reopened", "escalated"];
  const LISTED = {
    handler: WORKING,
    dispatcher: ["reported", "handled", "verified", ...WORKING],
    admin: ["reported", "handled", "verified", ...WORKING],
    leader: ["reported", "handled", "verified", ...WORKING],
  };
  const DANGER = new Set(["return", "dismiss", "reopen"]);
  let parties = [];
  let parents = {};
  const list = document.getElementById("list");
  const detail = document.getElementById("detail");
  let me = null;

  // static/common.js: the session, the server's clock (not the phone's), elements with
  // text (never innerHTML: case text comes from residents), and the names of states,
  // severities, moves and roles (GET /api/v1/meta: the server's, no table of our own)
  const { api, clock, time, names } = window.cityeye;
  const text = window.cityeye.el;
  const bilingual = window.cityeye.bi;

  function severity(s) {
    return s ? "紧急程度：" + names.zh("severities", s) : "";
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
      card.className = "card case sev-" + c.severity + (fresh.has(c.id) ? " fresh" : "");
      card.dataset.case = c.id;
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
    detail.dataset.state = c.state; // for styles and tests; never shown
    detail.replaceChildren(text("h2", c.title), text("p", [c.state_zh, severity(c.severity), c.area ? c.area.name : ""].filter(Boolean).join(" · "), "meta"));
    if (message) detail.append(text("p", message, "error"));
    const tl = document.createElement("ol");
    tl.className = "timeline";
    for (const e of c.timeline) {
      const li = document.createElement("li");
      li.append(text("time", time.full(e.at)), text("span", [names.both(names.TIMELINE, e.action), e.actor, e.note].filter(Boolean).join(" · ")));
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
    // the server says what I may do here (the case lifecycle, for my role): no table
    // of our own that could drift from it
    const moves = c.moves || [];
    if (!moves.length) return;
    const form = document.getElementById("moves").content.firstElementChild.cloneNode(true);
    const buttons = form.querySelector(".buttons");
    if (moves.some((m) => m.party)) form.prepend(partyPicker(c));
    for (const m of moves) {
      const b = text("button", names.both(["actions", "notes"], m.action), DANGER.has(m.action) ? "danger" : m.action === "progress" ? "secondary" : "");
      b.type = "button";
      b.dataset.action = m.action;
      b.addEventListener("click", () => submit(c, etag, m, form));
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
      headers: { "content-type": file.type },
      body: file,
    });
    const body = await r.json();
    if (!r.ok) throw new Error(body.detail);
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
      error.textContent = "请填写原因 Say why in the note";
      error.hidden = false;
      return;
    }
    for (const b of form.querySelectorAll("button")) b.disabled = true; // no double submit
    error.hidden = true;
    const move = { id: c.id, etag, action, note, photos: [] };
    if (m.party) move.party = form.party.value;
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
  const LOUD = new Set(["dispatched", "critical"]); // the notices that sound and show a banner
  const MODE = { live: ["实时", "Live"], poll: ["轮询", "Polling"], off: ["离线", "Offline"] };
  const seen = new Set();
  const fresh = new Set(); // cases announced while the desk is open: marked in the list
  let cursor = 0; // the highest sequence number seen
  let source = null; // the EventSource while there is one
  let polling = null; // the poll timer while polling
  let streamTried = 0;
  let audio = null;

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

  async function goLive() {
    // what came before the desk opened is in the queue already: no alert for it, only
    // for what comes after the newest one now (without `after`, the list gives the newest)
    try {
      const r = await api("/api/v1/notifications?limit=1");
      if (r.ok) cursor = Number((await r.json()).last) || 0;
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
    const kind = critical(n) ? "critical" : "dispatched";
    return [names.zh("notice_kinds", kind), names.en("notice_kinds", kind)];
  }

  function place(n) {
    // the notice's words name the place (its `area` is a code, not for reading)
    return ["工单号 " + n.case_id, time.hm(n.at)].join(" · "); // its words already say how urgent
  }

  function showCase(id) {
    if (location.hash === "#case=" + encodeURIComponent(id)) openCase(id);
    else location.hash = "case=" + encodeURIComponent(id); // → hashchange → openCase
  }

  function toast(n) {
    const box = document.getElementById("toasts");
    for (const old of box.querySelectorAll(".toast")) if (old.dataset.case === n.case_id) old.remove();
    const t = document.createElement("div");
    t.className = "toast" + (critical(n) ? " critical" : "");
    t.dataset.case = n.case_id;
    t.setAttribute("role", "alert");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open";
    open.append(bilingual("span", ...label(n), "kind"), text("span", n.text || n.title, "title"));
    open.append(text("span", place(n), "meta"), bilingual("span", "点此查看", "Tap to open", "hint"));
    open.addEventListener("click", () => {
      t.remove();
      showCase(n.case_id);
    });
    const close = text("button", "×", "close");
    close.type = "button";
    close.title = "关闭 Dismiss";
    close.setAttribute("aria-label", "关闭 Dismiss");
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
      tag: "case-" + n.case_id, // a later alert for the same case replaces this one
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
        showCase(n.case_id);
      });
    } catch (e) {
      // phones allow notifications only through the service worker (sw.js opens the case)
      const reg = navigator.serviceWorker && (await navigator.serviceWorker.getRegistration("/desk"));
      if (reg) await reg.showNotification(title, options);
    }
  }

  function unlockAudio() {
    // browsers start sound only after the user touched the page: the first tap does it
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume().catch(() => {});
    return audio;
  }

  function beep(urgent) {
    // a short chime made here (no sound file): two rising notes, four alternating for a critical case
    const ctx = unlockAudio();
    if (!ctx) return;
    let t = ctx.currentTime + 0.02;
    for (const hz of urgent ? [988, 740, 988, 740] : [784, 1047]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.22);
      t += 0.24;
    }
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
  window.addEventListener("hashchange", () => {
    const id = caseInHash();
    if (id && me) openCase(id);
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/desk-sw.js", { scope: "/desk" }).catch(() => {}); // http on a LAN address: no worker, the desk works the same
    navigator.serviceWorker.onmessage = (ev) => {
      // a tapped notification (sw.js): open its case here
      const url = ev.data && ev.data.open ? new URL(ev.data.open) : null;
      const m = url && url.hash.match(/^#case=(.+)$/);
      if (m) showCase(decodeURIComponent(m[1]));
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

  async function start() {
    let r;
    try {
      [r] = await Promise.all([api("/api/v1/auth/me"), names.load(), clock.ready]);
    } catch (e) {
      // started from the kept shell with the network away (sw.js): wait for it
      setMode("off");
      list.replaceChildren(bilingual("p", "离线：联网后显示我的工单", "Offline: your cases show when the network is back", "empty"));
      window.addEventListener("online", start, { once: true });
      return;
    }
    me = await r.json();
    document.getElementById("who").textContent = me.display_name + "（" + names.zh("user_roles", me.role) + "）";
    if (me.role !== "handler") {
      const [p, a] = await Promise.all([api("/api/v1/parties"), api("/api/v1/areas")]);
      parties = await p.json();
      for (const area of await a.json()) parents[area.code] = area.parent;
    }
    showNet();
    offerAlerts();
    await flush();
    await loadList();
    if (caseInHash()) openCase(caseInHash()); // opened from a notification
    await goLive();
  }
  start();
})();
