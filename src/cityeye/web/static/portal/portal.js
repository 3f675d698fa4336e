// The resident portal (居民随手拍): report a problem with a category, words, a photo and
// a place (a pin on the district's map, or an address); get a tracking number and a
// follow key; follow the case; rate the result once it is closed.
//
// No account is needed. The numbers and keys of this phone's reports stay in
// localStorage, so "Mine" lists them on the next visit; a signed-in resident also gets
// the reports they made on other devices. The map is the district's own boundaries
// (GeoJSON from the server), so it works with no tile server and no network but ours.
// A pin is named in words before the report goes ("长征桥社区 · 长征桥新村3幢", from
// GET /api/v1/places/reverse), and a place can be found by name (…/places/search).
"use strict";
(function () {
  const MINE = "cityeye.portal.reports";
  const PENDING = "cityeye.portal.pending"; // the key of a report sent but not yet answered
  const $ = (id) => document.getElementById(id);
  let pin = null;
  let marker = null;
  let map = null;

  // static/common.js: fetch with the session (signed in, a change carries its CSRF
  // value; no sign-in needed here, so no api()), the server's time and the district's
  // timezone, elements with text (never innerHTML: what residents type comes back here)
  // and the names of roles, steps and modes (GET /api/v1/meta)
  const { request, clock, time, names, bi, lang } = window.cityeye;
  const text = window.cityeye.el;
  const pick = lang.pick; // one language at a time (common.js), Chinese unless chosen

  // the server's refusals said in words for what a resident can put right; the rest by
  // their kind (lang.refusal): never a field name on the page
  const OUTSIDE = ["所选位置不在本辖区内，请移动图钉或填写地址。", "The pin is outside the district: move it or type an address."];
  const REPORT_REFUSALS = {
    lat: OUTSIDE,
    lon: OUTSIDE,
    category: ["请选择问题类别。", "Choose a category."],
    text: ["问题描述太长或无法识别，请修改后再试。", "The description is too long or unreadable; shorten it."],
    address: ["地址太长，请简短一些。", "The address is too long."],
    contact: ["手机号格式不对，请检查。", "That phone number does not look right."],
    photos: ["照片没有上传成功，请重新选择。", "The photo did not upload; choose it again."],
  };
  const PHOTO_REFUSALS = {
    photo: lang.NOT_A_PHOTO,
    photos: ["照片太多，请稍后再试。", "Too many photos for now; try again later."],
  };
  const RATING_REFUSALS = {
    "Follow-Key": ["只有上报人能评价：请填写上报时得到的查询码。", "Only the reporter rates: enter the follow key you were given."],
    rating: ["这件事还不能评价：还没办结，或已经评价过了。", "Not yet possible: the case is not closed, or it was rated already."],
  };
  const VOTE_REFUSALS = {
    role: ["只有居民可以投票。", "Only residents vote."],
    areas: ["您的住址还没有在本社区核验，请带住址证明到社区登记。", "Your home is not verified in this community: bring proof of address to the community office."],
  };

  function saved() {
    try { return JSON.parse(localStorage.getItem(MINE) || "[]"); } catch (e) { return []; }
  }

  function remember(tracking, key) {
    const all = saved().filter((r) => r.tracking !== tracking);
    all.unshift({ tracking, key, at: new Date(clock.now()).toISOString() });
    localStorage.setItem(MINE, JSON.stringify(all.slice(0, 50)));
  }

  function keyFor(tracking) {
    const found = saved().find((r) => r.tracking === tracking);
    return found ? found.key : "";
  }

  function showError(el, message) {
    el.textContent = message;
    el.hidden = !message;
  }

  // ------------------------------------------------------------------ tabs
  function show(tab) {
    for (const b of document.querySelectorAll(".tabs button")) {
      b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    }
    for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== tab;
    if (tab === "report" && map) map.invalidateSize();
    if (tab === "mine") loadMine();
    if (tab === "topics") loadTopics();
    if (tab === "suggest") loadMySuggestions();
  }
  for (const b of document.querySelectorAll(".tabs button")) {
    b.addEventListener("click", () => show(b.dataset.tab));
  }

  // ------------------------------------------------------------------ report
  async function loadCategories() {
    const r = await request("/api/v1/portal/categories");
    const select = $("report-form").category;
    for (const c of await r.json()) {
      const o = text("option", pick(c.zh, c.en));
      Object.assign(o.dataset, { zh: c.zh, en: c.en }); // switched with the page's language
      o.value = c.code;
      select.append(o);
    }
  }

  function place(lat, lon) {
    pin = { lat, lon };
    sayPin("已选位置", "Pin placed");
    describe(lat, lon);
    if (!map) return;
    if (marker) marker.setLatLng([lat, lon]);
    else marker = L.circleMarker([lat, lon], { radius: 9, color: "#c0392b", fillOpacity: 0.8 }).addTo(map);
  }

  function clearPin() {
    pin = null;
    if (marker) { marker.remove(); marker = null; }
    sayPin("未选位置", "No pin");
  }

  // the line under the map: where the pin is, in both languages, of which the page
  // shows one (common.js lang, base.css)
  function sayPin(zh, en, cls) {
    const said = $("pin-text");
    said.replaceChildren(...Array.from(bi("span", zh, en).childNodes));
    said.className = cls || "";
  }

  // ------------------------------------------------------------------ places
  let placeAsk = 0; // the latest pin's look-up: an answer for an older pin is dropped
  let autoAddress = ""; // what this page wrote in the address box (a resident's own words stay)

  // The pin in words: "长征桥社区 · 长征桥新村3幢" (the community and the nearest named
  // building or venue; the street and grid when none is near), also put in the address
  // box unless the resident wrote their own. Outside the district: the server's message,
  // and no pin. Without an answer (offline) the pin stays, unnamed.
  async function describe(lat, lon) {
    const asked = ++placeAsk;
    const form = $("report-form");
    let where = null;
    try {
      const r = await request("/api/v1/places/reverse?lat=" + lat + "&lon=" + lon);
      if (r.ok) where = await r.json();
    } catch (e) { /* offline: the pin goes without a name */ }
    if (asked !== placeAsk || !where) return;
    if (!where.inside) { // said beside the map, where the resident is looking
      clearPin();
      sayPin(where.message.zh, where.message.en, "outside");
      return;
    }
    sayPin("已选位置 " + where.label, "Pin: " + where.label);
    const box = form.address;
    if (!box.value.trim() || box.value === autoAddress) box.value = autoAddress = where.label;
  }

  let searchAsk = 0;
  let searchTimer = null;

  async function findPlaces() {
    clearTimeout(searchTimer);
    const q = $("place-q").value.trim();
    const list = $("place-results");
    const asked = ++searchAsk;
    if (!q) { list.hidden = true; list.replaceChildren(); return; }
    let found = null;
    try {
      const r = await request("/api/v1/places/search?limit=8&q=" + encodeURIComponent(q));
      if (r.ok) found = await r.json();
    } catch (e) { /* offline: say so below */ }
    if (asked !== searchAsk) return; // the resident typed on
    list.replaceChildren();
    const hits = (found || []).filter((p) => p.lat !== null && p.lon !== null);
    if (!hits.length) {
      list.append(found ? bi("li", "没有找到，可点地图或填写地址", "Nothing found: tap the map or type an address", "empty")
        : bi("li", "暂时无法搜索", "Search is unavailable now", "empty"));
    }
    for (const p of hits) {
      const b = text("button", "", "place-hit");
      b.type = "button";
      const kind = names.shown("place_kinds", p.kind);
      b.append(text("span", p.name, "name"), text("span", p.address ? kind + " · " + p.address : kind, "meta"));
      b.addEventListener("click", () => {
        list.hidden = true;
        $("place-q").value = p.name;
        const zoom = { street: 15, community: 16 }[p.kind] || 17;
        if (map) map.setView([p.lat, p.lon], zoom, { animate: false });
        place(p.lat, p.lon);
      });
      const li = document.createElement("li");
      li.append(b);
      list.append(li);
    }
    list.hidden = false;
  }

  $("place-q").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(findPlaces, 250); // once the resident pauses typing
  });
  $("place-q").addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    ev.preventDefault(); // Enter finds the place; it does not send the report
    findPlaces();
  });

  async function loadMap() {
    const r = await request("/api/v1/portal/map");
    const shapes = await r.json();
    map = L.map("map", { attributionControl: false, zoomSnap: 0.25 });
    window.cityeye.tiles(map); // only when configured
    const layer = L.geoJSON(shapes, {
      style: (f) => ({
        className: "area-" + f.properties.code,
        ...({
          street: { color: "#1f6fb2", weight: 2.5, fill: false },
          community: { color: "#5d6d7e", weight: 1.2, fillColor: "#d6eaf8", fillOpacity: 0.3 },
        }[f.properties.level] || { color: "#aab7b8", weight: 0.5, fillColor: "#ebf5fb", fillOpacity: 0.2 }),
      }),
      onEachFeature: (f, l) => l.bindTooltip(text("span", f.properties.name), { sticky: true }),
    }).addTo(map);
    if (shapes.features.length) map.fitBounds(layer.getBounds());
    else map.setView([30.3, 120.15], 12);
    map.on("click", (e) => place(e.latlng.lat, e.latlng.lng));
    return shapes;
  }

  $("locate").addEventListener("click", () => {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(
      (p) => { place(p.coords.latitude, p.coords.longitude); map.panTo([p.coords.latitude, p.coords.longitude]); },
      () => showError($("report-form").querySelector(".error"), pick("无法获取位置，请点地图或填地址", "No location: tap the map or type an address")),
    );
  });

  async function uploadPhoto(file) {
    const r = await request("/api/v1/portal/photos", {
      method: "POST", headers: { "content-type": file.type }, body: file,
    });
    const body = await r.json();
    if (!r.ok) throw new Error(lang.refusal(r.status, body.detail, PHOTO_REFUSALS));
    return body.ref;
  }

  function newKey() {
    // made here, kept until the server answers: a report re-sent after a lost answer
    // carries the same key, and the server answers the report it already made
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // ------------------------------------------------------------------ language
  // what this script wrote, again in the chosen language: the open tab's list, a
  // followed report, an open topic (a report being written keeps what was typed)
  lang.onChange(() => {
    const tab = (document.querySelector('.tabs button[aria-selected="true"]') || {}).dataset;
    if (tab && (tab.tab === "topics" || tab.tab === "mine")) show(tab.tab);
    const form = $("track-form");
    if (!$("status").hidden && form.tracking.value) track(form.tracking.value, form.key.value);
    const topic = $("topic");
    if (!topic.hidden && topic.dataset.topic) openTopic(topic.dataset.topic);
  });

  // ------------------------------------------------------------------ photos
  // up to MAX_PHOTOS (the server's limit too), each shown small with a remove button;
  // sent one by one when the report goes
  const MAX_PHOTOS = 4;
  let photos = [];
  function showPhotos() {
    const list = $("photo-list");
    for (const img of list.querySelectorAll("img")) URL.revokeObjectURL(img.src);
    list.replaceChildren(...photos.map((file, i) => {
      const li = text("li", "");
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = pick(`照片 ${i + 1}`, `Photo ${i + 1}`);
      const remove = text("button", "×", "secondary");
      remove.type = "button";
      remove.setAttribute("aria-label", pick(`去掉照片 ${i + 1}`, `Remove photo ${i + 1}`));
      remove.addEventListener("click", () => { photos.splice(i, 1); showPhotos(); });
      li.append(img, remove);
      return li;
    }));
  }
  $("report-photo").addEventListener("change", (ev) => {
    const error = $("report-form").querySelector(".error");
    const chosen = [...ev.target.files];
    ev.target.value = ""; // the same photo may be chosen again after removing it
    const room = MAX_PHOTOS - photos.length;
    if (chosen.length > room) showError(error, pick(`最多 ${MAX_PHOTOS} 张照片，多的没有加上。`, `Up to ${MAX_PHOTOS} photos; the rest were not added.`));
    photos = photos.concat(chosen.slice(0, Math.max(0, room)));
    showPhotos();
  });
  // a message about what was wrong goes once the resident changes something
  for (const id of ["report-form", "suggest-form"]) {
    $(id).addEventListener("change", (ev) => { if (ev.target.type !== "file") showError($(id).querySelector(".error"), ""); });
    $(id).addEventListener("input", () => showError($(id).querySelector(".error"), ""));
  }

  $("report-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const error = form.querySelector(".error");
    const button = form.querySelector("button[type=submit]");
    if (!form.category.value) return showError(error, pick("请选择问题类别", "Choose a category"));
    const address = form.address.value.trim();
    if (!pin && !address) return showError(error, pick("请在地图上选位置或填写地址", "Place a pin or type an address"));
    button.disabled = true; // one tap, one report
    showError(error, "");
    try {
      let key = localStorage.getItem(PENDING);
      if (!key) {
        key = newKey();
        localStorage.setItem(PENDING, key);
      }
      const body = { category: form.category.value, photos: [], follow_key: key };
      const words = form.text.value.trim();
      if (words) body.text = words;
      if (pin) { body.lat = pin.lat; body.lon = pin.lon; }
      if (address) body.address = address;
      const contact = form.contact.value.trim();
      if (contact) body.contact = contact;
      for (const file of photos) body.photos.push(await uploadPhoto(file));
      const r = await request("/api/v1/portal/reports", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      });
      const answer = await r.json();
      if (!r.ok) throw new Error(lang.refusal(r.status, answer.detail, REPORT_REFUSALS));
      remember(answer.tracking, answer.follow_key);
      localStorage.removeItem(PENDING);
      checkReports(); // where it stands now: a later change is then said
      $("receipt-tracking").textContent = answer.tracking;
      $("receipt-key").textContent = answer.follow_key;
      $("receipt-copied").hidden = true;
      showQr(answer.tracking, answer.follow_key);
      $("receipt-notice").textContent = answer.notice;
      form.hidden = true;
      $("receipt").hidden = false;
      form.reset();
      photos = [];
      showPhotos();
      autoAddress = "";
      $("place-results").hidden = true;
      clearPin();
    } catch (e) {
      const offline = e instanceof TypeError;
      if (!offline) localStorage.removeItem(PENDING); // refused: a corrected report is a new one
      showError(error, offline ? pick("网络不通或未收到回复；内容已保留，联网后再点提交（不会重复上报）", "No answer (offline?); your report is kept: send it again when online (it will not be doubled)")
        : pick("未提交：", "Not sent: ") + e.message);
    } finally {
      button.disabled = false;
    }
  });

  // The follow link as a QR code (vendored qrcode-generator, drawn here, offline): another
  // phone that scans it opens this report with its key, kept there too. The key travels
  // in the link's #fragment, which a browser never sends to a server.
  function followLink(tracking, key) {
    return location.origin + "/portal#" + new URLSearchParams({ track: tracking, key }).toString();
  }
  function showQr(tracking, key) {
    const img = $("receipt-qr");
    if (!window.qrcode) { img.closest("figure").hidden = true; return; }
    const qr = window.qrcode(0, "M");
    qr.addData(followLink(tracking, key));
    qr.make();
    img.src = qr.createDataURL(6, 2);
    img.alt = pick("查看进度的二维码", "QR code to follow the report");
    img.dataset.link = followLink(tracking, key);
  }

  // both at once, to keep in a note or send to oneself: the key is long and shown once
  $("receipt-copy").addEventListener("click", async () => {
    const words = pick("查询编号：", "Tracking number: ") + $("receipt-tracking").textContent + "\n" + pick("查询码：", "Follow key: ") + $("receipt-key").textContent;
    try {
      await navigator.clipboard.writeText(words);
    } catch (e) { // no clipboard (an http intranet page): select the key for a long-press copy
      const range = document.createRange();
      range.selectNodeContents($("receipt-key"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      return;
    }
    $("receipt-copied").hidden = false;
  });

  $("receipt-again").addEventListener("click", () => {
    $("receipt").hidden = true;
    $("report-form").hidden = false;
    if (map) map.invalidateSize();
  });
  $("receipt-track").addEventListener("click", () => {
    const tracking = $("receipt-tracking").textContent;
    $("receipt").hidden = true;
    $("report-form").hidden = false;
    track(tracking, keyFor(tracking));
  });

  // ------------------------------------------------------------------ follow
  const fmt = time.full; // in the district's timezone, whatever the phone's

  function renderStatus(s, key) {
    const box = $("status");
    box.hidden = false;
    box.replaceChildren(
      text("h2", s.tracking),
      text("p", pick(s.category.zh, s.category.en), "meta"),
      text("p", pick(s.state_zh, s.state_en), "state"),
    );
    if (s.due_at) box.append(text("p", pick("预计办结：", "Expected by: ") + fmt(s.due_at), "meta due"));
    if (s.text) box.append(text("p", s.text));
    if (s.address) box.append(text("p", pick("地址：", "Address: ") + s.address, "meta"));
    if (s.photos) {
      // the reporter's photos and the handlers' "after" ones, fetched with the key
      // (the tracking number alone does not open them), shown from memory
      for (const [side, zh, en] of [["before", "您的照片", "Your photos"], ["after", "处置后", "After handling"]]) {
        if (!s.photos[side].length) continue;
        const row = text("div", "", "photo-list");
        row.dataset.side = side;
        for (const ref of s.photos[side]) row.append(reportPhoto(s.tracking, ref, key));
        box.append(text("p", pick(zh, en), "meta"), row);
      }
    }
    const tl = document.createElement("ol");
    tl.className = "timeline";
    const first = document.createElement("li");
    first.append(text("time", fmt(s.reported_at)), text("span", pick("已提交", "Reported")));
    tl.append(first);
    for (const step of s.steps) {
      const li = document.createElement("li");
      li.append(text("time", fmt(step.at)), text("span", pick(step.zh, step.en)));
      tl.append(li);
    }
    box.append(tl);
    if (s.rating) box.append(text("p", pick("您的评价：", "Your rating: ") + "★".repeat(s.rating) + "☆".repeat(5 - s.rating), "rated"));
    if (s.can_rate) box.append(rateForm(s, key));
  }

  function reportPhoto(tracking, ref, key) {
    const img = document.createElement("img");
    img.alt = pick("照片", "Photo");
    const path = "/api/v1/portal/reports/" + encodeURIComponent(tracking) + "/photos/" + encodeURIComponent(ref);
    request(path, { headers: keyed(key) })
      .then((r) => (r.ok ? r.blob() : null))
      .then((blob) => { if (blob) img.src = URL.createObjectURL(blob); else img.alt = pick("照片无法显示", "Photo unavailable"); })
      .catch(() => { img.alt = pick("照片无法显示", "Photo unavailable"); });
    return img;
  }

  function rateForm(s, key) {
    const form = $("rate-form").content.firstElementChild.cloneNode(true);
    const stars = form.querySelector(".stars");
    const send = form.querySelector("button[type=submit]");
    let chosen = 0;
    for (let n = 1; n <= 5; n++) {
      const b = text("button", "★");
      b.type = "button";
      b.setAttribute("role", "radio");
      b.setAttribute("aria-label", n + pick(" 星", " stars"));
      b.dataset.stars = String(n);
      b.addEventListener("click", () => {
        chosen = n;
        for (const o of stars.children) o.classList.toggle("on", Number(o.dataset.stars) <= n);
        send.disabled = false;
      });
      stars.append(b);
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      send.disabled = true;
      const error = form.querySelector(".error");
      try {
        const body = { rating: chosen };
        const comment = form.comment.value.trim();
        if (comment) body.comment = comment;
        const r = await request("/api/v1/portal/reports/" + encodeURIComponent(s.tracking) + "/rating", {
          method: "POST",
          headers: { "content-type": "application/json", "follow-key": key || "" },
          body: JSON.stringify(body),
        });
        const answer = await r.json();
        if (!r.ok) throw new Error(lang.refusal(r.status, answer.detail, RATING_REFUSALS));
        if (r.status === 202) return track(s.tracking, key); // applied by a worker shortly
        renderStatus(answer, key);
      } catch (e) {
        showError(error, pick("未提交：", "Not sent: ") + e.message);
        send.disabled = false;
      }
    });
    return form;
  }

  // the follow key, when this phone has one, goes with every look at a report: it
  // is what lets the reporter (and only them) see photos and rate
  const keyed = (key) => (key ? { "follow-key": key } : {});
  const askStatus = (tracking, key) =>
    request("/api/v1/portal/reports/" + encodeURIComponent(tracking), { headers: keyed(key) });

  async function track(tracking, key) {
    show("track");
    const form = $("track-form");
    form.tracking.value = tracking;
    form.key.value = key || "";
    const error = form.querySelector(".error");
    showError(error, "");
    try {
      const r = await askStatus(tracking, key);
      const body = await r.json();
      if (!r.ok) throw new Error(r.status === 404 ? pick("查不到这个编号，请核对后再试。", "No report with that number; check it and try again.") : lang.refusal(r.status, body.detail));
      renderStatus(body, key);
    } catch (e) {
      $("status").hidden = true;
      showError(error, e.message);
    }
  }

  $("track-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const tracking = ev.target.tracking.value.trim().toUpperCase();
    track(tracking, ev.target.key.value.trim() || keyFor(tracking));
  });

  async function loadMine() {
    const list = $("mine-list");
    list.replaceChildren();
    const rows = new Map(saved().map((r) => [r.tracking, r]));
    const statuses = new Map();
    const me = await request("/api/v1/portal/mine");
    if (me.ok) {
      for (const s of await me.json()) {
        statuses.set(s.tracking, s);
        if (!rows.has(s.tracking)) rows.set(s.tracking, { tracking: s.tracking, key: "" });
      }
    }
    if (!rows.size) list.append(text("p", pick("本机还没有上报记录", "No reports from this phone yet"), "empty"));
    for (const r of rows.values()) {
      const b = text("button", "", "card report-row");
      b.type = "button";
      b.dataset.tracking = r.tracking;
      const state = text("div", "", "state");
      b.append(text("div", r.tracking, "title"), state);
      b.addEventListener("click", () => track(r.tracking, r.key));
      list.append(b);
      // where each stands now, in words, and since when it was sent (the server's time)
      const shown = (s) => {
        state.textContent = pick(s.state_zh, s.state_en);
        b.append(text("div", [s.category ? pick(s.category.zh, s.category.en) : "", fmt(s.reported_at)].filter(Boolean).join(" · "), "meta"));
      };
      if (statuses.has(r.tracking)) shown(statuses.get(r.tracking));
      else {
        askStatus(r.tracking, r.key)
          .then((x) => (x.ok ? x.json() : null))
          .then((s) => { if (s) shown(s); })
          .catch(() => { /* offline: the number alone */ });
      }
    }
  }

  // ------------------------------------------------------------------ suggestions
  const P = "/api/v1/participation";
  let me = null;

  function fillAreas(shapes) {
    // suggestions are about a community (or, where a district has no communities
    // drawn, a grid): the same list the map shows
    const select = $("suggest-form").area;
    const communities = shapes.features.filter((f) => f.properties.level === "community");
    const rows = communities.length ? communities : shapes.features.filter((f) => f.properties.level === "grid");
    for (const f of rows) {
      const o = text("option", f.properties.name);
      o.value = f.properties.code;
      select.append(o);
    }
    if (me && me.areas && me.areas.length) select.value = me.areas[0];
    if (me && me.role === "handler") {
      // a volunteer collecting door to door (民情快递) or a worker, signed in, writes
      // down what residents said: the suggestion says how it came in
      const channel = document.createElement("select");
      channel.name = "channel";
      for (const value of ["volunteer", "worker"]) {
        const o = text("option", names.shown("suggestion_channels", value));
        Object.assign(o.dataset, { zh: names.zh("suggestion_channels", value), en: names.en("suggestion_channels", value) });
        o.value = value;
        channel.append(o);
      }
      const label = text("label", "来源 ");
      label.append(text("span", "Channel"), channel);
      label.children[0].lang = "en";
      $("suggest-form").prepend(label);
    }
  }

  $("suggest-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const error = form.querySelector(".error");
    const button = form.querySelector("button[type=submit]");
    const words = form.text.value.trim();
    if (!form.area.value) return showError(error, pick("请选择社区", "Choose your community"));
    if (!words) return showError(error, pick("请写下您的建议", "Write your suggestion"));
    button.disabled = true;
    showError(error, "");
    try {
      const r = await request(P + "/suggestions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: words, area: form.area.value, channel: form.channel ? form.channel.value : "portal" }),
      });
      const answer = await r.json();
      if (!r.ok) throw new Error(lang.refusal(r.status, answer.detail));
      const box = $("suggest-receipt");
      box.replaceChildren(
        text("h2", pick("谢谢您的建议", "Thank you")),
        text("p", pick("编号：", "Number: ") + answer.id, "meta"),
        text("p", pick("归类：", "Sorted as: ") + pick(answer.category.zh, answer.category.en)),
        text("p", pick("社区会逐条答复；很多人关心的事会提交红茶议事会，在“议事”里公开讨论和表决。", "The community answers each one; what many care about goes to the 红茶议事会, discussed and voted on under Topics."), "hint"),
      );
      box.hidden = false;
      form.text.value = "";
      loadMySuggestions();
    } catch (e) {
      showError(error, pick("未提交：", "Not sent: ") + e.message);
    } finally {
      button.disabled = false;
    }
  });

  // what I suggested signed in, each with the community's answer once given (one
  // answer to a whole group of the same complaint reaches each of them); an anonymous
  // suggestion has no one to show it to
  async function loadMySuggestions() {
    const box = $("my-suggestions");
    if (!me) return;
    const r = await request(P + "/suggestions/mine").catch(() => null);
    if (!r || !r.ok) return;
    const mine = await r.json();
    box.hidden = !mine.length;
    box.querySelector("ol").replaceChildren(...mine.map((s) => {
      const li = text("li", "", "my-suggestion");
      li.dataset.id = s.id;
      li.append(
        text("div", [fmt(s.created_at), s.area.name, pick(s.category.zh, s.category.en)].join(" · "), "meta"),
        text("p", s.text),
        s.answer
          ? text("p", pick("社区答复：", "The community's answer: ") + s.answer, "answer")
          : text("p", pick("待答复", "Not answered yet"), "meta pending"),
      );
      return li;
    }));
  }

  // ------------------------------------------------------------------ topics
  async function loadTopics() {
    const list = $("topic-list");
    const r = await request(P + "/topics?per_page=50");
    const body = await r.json();
    list.replaceChildren();
    if (!body.items.length) list.append(text("p", pick("暂无议题", "No topics yet"), "empty"));
    for (const t of body.items) {
      const b = text("button", "", "card topic-row");
      b.type = "button";
      b.dataset.topic = t.id;
      const head = text("div", "", "title");
      head.append(text("span", t.step.zh, "badge"), document.createTextNode(t.title));
      b.append(head, text("div", t.area.name + " · " + t.step.en, "meta"));
      b.addEventListener("click", () => openTopic(t.id));
      list.append(b);
    }
  }

  function progress(t) {
    // the six steps of the method, the ones done, the one the topic is at
    const bar = text("div", "", "steps");
    names.entries("topic_steps").forEach(([, name], i) => bar.append(text("span", name.zh, i < t.step.order ? "done" : i === t.step.order ? "now" : "")));
    return bar;
  }

  async function openTopic(id, message) {
    const [r] = await Promise.all([request(P + "/topics/" + encodeURIComponent(id)), names.load()]);
    if (!r.ok) return;
    const t = await r.json();
    const box = $("topic");
    box.hidden = false;
    box.dataset.topic = t.id;
    box.dataset.step = t.step.code;
    box.replaceChildren(text("h2", t.title), text("p", t.area.name + " · " + t.step.zh + " " + t.step.en, "meta"), progress(t));
    if (message) box.append(text("p", message, "rated"));
    if (t.description) box.append(text("p", t.description));
    const record = document.createElement("ol");
    record.className = "timeline";
    for (const step of t.steps) {
      const li = document.createElement("li");
      li.append(text("time", fmt(step.at)), text("span", [step.zh + " " + step.en, step.note].filter(Boolean).join(" · ")));
      record.append(li);
    }
    box.append(text("h3", pick("议事记录", "Record")), record);
    for (const m of t.meetings) {
      box.append(text("h3", pick("红茶议事会 · ", "Meeting · ") + names.shown("meeting_modes", m.mode) + " · " + fmt(m.at)));
      if (m.place) box.append(text("p", m.place, "meta"));
      if (m.minutes) box.append(text("p", pick("纪要：", "Minutes: ") + m.minutes));
      for (const d of m.decisions) box.append(text("p", pick("决定：", "Decision: ") + d));
      if (m.mode === "online") box.append(discussion(t, m));
    }
    if (t.ballot && !t.ballot.closed && t.step.code === "vote") box.append(voteForm(t));
    if (t.tally) box.append(tallyView(t));
    if (t.resolution) {
      box.append(text("h3", pick("决议", "Resolution")), text("p", t.resolution.text));
      const ul = document.createElement("ul");
      for (const a of t.resolution.actions) {
        const state = a.case ? pick(a.case.state_zh, a.case.state_en) : pick("立案中", "being opened");
        ul.append(text("li", a.title + " · " + a.party.name + " · " + state));
      }
      box.append(ul);
    }
    for (const hook of topicHooks) hook(t, box); // portal/facilitator.js: a facilitator's forms
    box.scrollIntoView({ behavior: "smooth" });
  }

  // a facilitator (促动师) of the topic's community also sees the forms that move it on
  // (portal/facilitator.js, which reloads the topic and the list through these)
  const topicHooks = [];
  window.cityeye.portal = { openTopic, loadTopics, onTopic: (hook) => topicHooks.push(hook) };

  function discussion(t, m) {
    // the online meeting: speaker turns in order (residents by their seat number,
    // never by name), and for a signed-in participant: sign in, then speak
    const box = text("div", "", "discussion");
    const list = document.createElement("ol");
    list.className = "timeline turns";
    for (const turn of m.turns) {
      const li = document.createElement("li");
      li.append(text("time", fmt(turn.at)), text("span", "#" + turn.speaker + " " + names.shown("participant_roles", turn.role) + "：" + turn.text));
      list.append(li);
    }
    box.append(list);
    if (!me || t.step.code === "resolve") return box;
    const form = document.createElement("form");
    form.className = "speak";
    const area = document.createElement("textarea");
    area.name = "text";
    area.maxLength = 4000;
    area.rows = 2;
    const send = text("button", pick("发言", "Speak"));
    send.type = "submit";
    const error = text("p", "", "error");
    error.hidden = true;
    form.append(area, send, error);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!area.value.trim()) return;
      send.disabled = true;
      const post = (path, body) => request(P + "/meetings/" + encodeURIComponent(m.id) + path, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      });
      await post("/sign-in", {}); // 签到 first (again is harmless)
      const r = await post("/turns", { text: area.value.trim() });
      const answer = await r.json();
      send.disabled = false;
      if (!r.ok) return showError(error, pick("未发出：", "Not sent: ") + lang.refusal(r.status, answer.detail));
      openTopic(t.id);
    });
    box.append(form);
    return box;
  }

  function voteForm(t) {
    const form = text("div", "", "vote");
    form.append(text("h3", pick("居民表决", "Vote")));
    if (!me || me.role !== "resident") {
      const a = text("a", pick("登录后表决（本社区经核实的居民，一人一票）", "Sign in to vote (verified residents of the area, one vote each)"));
      a.href = "/login?next=" + encodeURIComponent("/portal#topic=" + t.id);
      form.append(a);
      return form;
    }
    const closes = t.ballot.closes_at ? Date.parse(t.ballot.closes_at) : null;
    if (closes !== null && clock.now() >= closes) { // past its time: no buttons that would be refused
      form.append(text("p", pick("表决已截止，等待社区计票公布结果。", "The vote has closed; the community will count it and publish the result."), "hint"));
      return form;
    }
    const error = text("p", "", "error");
    error.hidden = true;
    // one vote, that cannot be changed: a choice is confirmed before it is sent
    const sure = text("div", "", "confirm");
    sure.hidden = true;
    const choices = text("div", "", "choices");
    for (const option of t.ballot.options) {
      const b = text("button", option);
      b.type = "button";
      b.dataset.choice = option;
      b.addEventListener("click", () => {
        choices.hidden = true;
        const yes = text("button", pick("确认投票", "Cast my vote"));
        yes.type = "button";
        yes.dataset.action = "confirm-vote";
        const no = text("button", pick("重新选择", "Choose again"), "secondary");
        no.type = "button";
        no.addEventListener("click", () => { sure.hidden = true; choices.hidden = false; });
        yes.addEventListener("click", async () => {
          yes.disabled = no.disabled = true; // one vote
          const r = await request(P + "/topics/" + encodeURIComponent(t.id) + "/votes", {
            method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ choice: option }),
          });
          const answer = await r.json();
          if (r.ok) return openTopic(t.id, pick("已投票，谢谢", "Your vote is in: thank you"));
          showError(error, (r.status === 409 ? pick("已投过票，或表决已结束。", "Voted already, or the vote is closed.") : pick("未能投票：", "Not counted: ") + lang.refusal(r.status, answer.detail, VOTE_REFUSALS)));
        });
        sure.replaceChildren(text("p", pick(`投给「${option}」？每人一票，投出后不能更改。`, `Vote for “${option}”? One vote each; it cannot be changed.`)), yes, no);
        sure.hidden = false;
      });
      choices.append(b);
    }
    form.append(choices, sure, error);
    return form;
  }

  function tallyView(t) {
    const box = text("div", "", "tally");
    const y = t.tally;
    box.append(text("h3", pick("表决结果", "Result")));
    box.append(text("p", pick("应参与 ", "eligible ") + y.eligible + pick(" · 参与 ", " · voted ") + y.voters + (y.quorum_met ? pick(" · 达到法定人数", " · quorum met") : pick(" · 未达法定人数", " · no quorum"))));
    const most = Math.max(1, ...Object.values(y.counts));
    for (const [option, n] of Object.entries(y.counts)) {
      box.append(text("div", option + " · " + n));
      const bar = text("div", "", "bar");
      bar.style.width = Math.round((100 * n) / most) + "%";
      box.append(bar);
    }
    box.append(text("p", y.passed ? pick("通过：", "Passed: ") + y.winner : pick("未通过", "Not passed"), y.passed ? "rated" : "error"));
    return box;
  }

  // ------------------------------------------------------------------ notices
  // A report's case moved on: said at the top of the page while it is open. A signed-in
  // resident hears their notices live (the desk's stream: handled, closed); a report
  // kept on this phone with its key is looked at again every CHECK_MS, and at once when
  // the person comes back to the page, and a change of state is said.
  const STATES = "cityeye.portal.states"; // tracking → the state last seen here
  const CHECK_MS = 60000;
  function announce(words, tracking) {
    const n = text("p", "", "notice");
    const open = text("button", words, "link");
    open.type = "button";
    open.addEventListener("click", () => { n.remove(); track(tracking, keyFor(tracking)); });
    const close = text("button", "×", "secondary");
    close.type = "button";
    close.setAttribute("aria-label", pick("关闭", "Dismiss"));
    close.addEventListener("click", () => n.remove());
    n.dataset.tracking = tracking;
    n.append(open, close);
    $("notices").prepend(n);
  }

  let checking = false;
  async function checkReports() {
    if (checking) return;
    checking = true;
    try {
      let seen = {};
      try { seen = JSON.parse(localStorage.getItem(STATES) || "{}"); } catch (e) { seen = {}; }
      for (const r of saved().slice(0, 10)) {
        if (seen[r.tracking] && ["closed", "dismissed", "self_resolved"].includes(seen[r.tracking])) continue;
        const x = await askStatus(r.tracking, r.key).catch(() => null);
        if (!x || !x.ok) continue;
        const s = await x.json();
        const now = s.state || "received"; // before the case is opened
        if (seen[r.tracking] && seen[r.tracking] !== now) {
          announce(pick(`您的上报 ${r.tracking}：${s.state_zh}`, `Your report ${r.tracking}: ${s.state_en}`), r.tracking);
        }
        seen[r.tracking] = now;
      }
      localStorage.setItem(STATES, JSON.stringify(seen));
    } finally {
      checking = false;
    }
  }

  function listen() {
    if (!me || me.role !== "resident" || !window.EventSource) return;
    const stream = new EventSource("/api/v1/notifications/stream");
    stream.addEventListener("notification", (ev) => {
      const n = JSON.parse(ev.data);
      const tracking = new URLSearchParams((n.url || "").split("#")[1] || "").get("track");
      if (tracking) announce(n.text || n.title, tracking);
    });
  }

  (async function start() {
    const [who] = await Promise.all([request("/api/v1/auth/me"), names.load(), clock.ready]);
    if (who.ok) {
      me = await who.json();
      $("signin").hidden = true;
      $("who").textContent = me.display_name;
    }
    const [, shapes] = await Promise.all([loadCategories(), loadMap()]);
    fillAreas(shapes);
    const hash = new URLSearchParams(location.hash.slice(1));
    const wanted = hash.get("track");
    const given = hash.get("key"); // a scanned follow link: keep the key on this phone too
    if (wanted && given && !keyFor(wanted)) remember(wanted, given);
    if (wanted) track(wanted, keyFor(wanted) || given || "");
    const topic = hash.get("topic");
    if (topic) {
      show("topics");
      openTopic(topic);
    }
    listen();
    checkReports();
    setInterval(checkReports, CHECK_MS);
    window.addEventListener("focus", checkReports); // back on the page: look now
    document.addEventListener("visibilitychange", () => { if (!document.hidden) checkReports(); });
  })();
})();
