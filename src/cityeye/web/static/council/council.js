// 社情民意与议事: the staff page for residents' suggestions and the 红茶议事会.
//
// Two columns on a wide screen (one on a phone): on the left a list — the groups of
// near-duplicate suggestions in the chosen area (largest first, narrowed by the
// filters and the search, exported as a spreadsheet with the same filters), or the
// topics — and on the right what is chosen in it. A group shows its title (its most
// representative suggestion), ONE answer form for all its members (each resident's
// suggestion gets the answer; those answered one by one keep theirs unless asked),
// and its members collapsed, each of which can still be answered alone, turned into
// a case or put on a topic. A topic opens its public record — the six steps with who
// moved each and when, the meetings (participants, minutes, decisions, the online
// turns), the ballot and its tally, the resolution and the case of each of its
// actions — and the forms that move it on. The server decides who may do what: a
// refusal (403) or an unmet guard (409) is shown with the server's reason.
// Text from residents goes in as text nodes only, never innerHTML.
"use strict";
(function () {
  const API = "/api/v1/participation";
  const PER_PAGE = 50;
  const state = {
    me: null, areas: {}, kids: {}, roots: [], area: null, parties: [],
    group: null, page: 1, topic: null, topics: [], gen: 0, looks: {},
    view: null, // what the right column shows: "group" or "topic"
  };
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ helpers
  // static/common.js: the session (a change carries its CSRF value), the server's time
  // and the district's timezone, elements with text (never innerHTML), and the names of
  // the six steps, topic kinds, meeting modes, participant roles and suggestion
  // channels (GET /api/v1/meta: the server's, no table of our own)
  const { api, clock, time, el, bi, names, lang } = window.cityeye;
  const pick = lang.pick;
  // the six steps in order: [{code, zh, en}, …]
  const steps = () => names.entries("topic_steps").map(([code, n]) => ({ code, zh: n.zh, en: n.en }));

  // why the server refused, in the page's language (common.js: in Chinese a sentence
  // for each kind of refusal, in English the server's reason, which names the rule)
  function reason(body, status) {
    const d = body && body.detail;
    // FastAPI: a string ("ballot: not passed …"), or the list of a body's field errors
    const detail = Array.isArray(d) ? d.map((x) => (x.loc || []).slice(1).join(".") + ": " + x.msg).join("; ") : d;
    return lang.refusal(status, detail);
  }

  // {ok, status, body}; a network failure is {ok: false, status: 0}
  async function call(method, path, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["content-type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    try {
      const r = await api(path, options);
      let data = null;
      try { data = await r.json(); } catch (e) { data = null; }
      return { ok: r.ok, status: r.status, body: data, error: r.ok ? null : reason(data, r.status) };
    } catch (e) {
      return { ok: false, status: 0, body: null, error: pick("网络错误：", "Network error: ") + e.message };
    }
  }

  async function get(path) {
    const r = await call("GET", path);
    if (!r.ok) throw new Error(r.error);
    return r.body;
  }

  function button(zh, en, action, cls) {
    const b = bi("button", zh, en, cls);
    b.type = "button";
    b.dataset.action = action;
    return b;
  }

  function field(zh, en, input) {
    const l = bi("label", zh, en);
    l.append(input);
    return l;
  }

  function input(name, attrs = {}) {
    const i = document.createElement(attrs.tag || "input");
    i.name = name;
    for (const [k, v] of Object.entries(attrs)) if (k !== "tag") i.setAttribute(k, v);
    return i;
  }

  function select(name, options) {
    const s = input(name, { tag: "select" });
    for (const [value, label] of options) {
      const o = el("option", label);
      o.value = value;
      s.append(o);
    }
    return s;
  }

  function errorLine() {
    const p = el("p", "", "error");
    p.setAttribute("role", "alert");
    p.hidden = true;
    return p;
  }

  function fail(p, message) {
    p.textContent = pick("未完成：", "Not done: ") + message;
    p.hidden = false;
  }

  // disable the form's buttons while a request is out: no double submit
  async function busy(form, work) {
    const buttons = form.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    try { return await work(); } finally { for (const b of buttons) b.disabled = false; }
  }

  // times as the district reads them, and typed in on its clock, whatever the browser's
  const when = time.minutes; // 2026/11/23 08:00
  const localInput = time.input; // a datetime-local field's value
  const zoned = time.fromInput; // and what one says, as an ISO time
  const areaName = (code) => (state.areas[code] ? state.areas[code].name : code || "");
  // who runs topics and answers suggestions (the server checks the area too); others
  // (a leader) see the same page without the forms
  const manager = () => !!state.me && ["dispatcher", "admin"].includes(state.me.role);

  function notice(message) {
    const n = $("notice");
    n.textContent = message;
    n.hidden = !message;
  }

  // ------------------------------------------------------------------ areas
  function fillAreas() {
    const box = $("area");
    box.replaceChildren();
    const add = (code, depth) => {
      const a = state.areas[code];
      if (!a) return;
      const o = el("option", "\u3000".repeat(depth) + a.name);
      o.value = code;
      box.append(o);
      if (a.level !== "grid") for (const k of state.kids[code] || []) add(k, depth + 1);
    };
    for (const root of state.roots) add(root, 0);
    box.value = state.area;
  }

  $("area").addEventListener("change", () => {
    state.area = $("area").value;
    state.group = null;
    if (state.view === "group") showDetail(null);
    loadAll();
  });

  // ------------------------------------------------------------------ the two columns
  // the left column's tabs: the groups of suggestions, or the topics
  function showTab(tab) {
    for (const b of document.querySelectorAll(".tabs [role=tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    $("groups-pane").hidden = tab !== "groups";
    $("topics-pane").hidden = tab !== "topics";
  }
  for (const b of document.querySelectorAll(".tabs [role=tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));

  // the right column: a group, a topic, or a hint to choose one
  function showDetail(view) {
    state.view = view;
    $("group-detail").hidden = view !== "group";
    $("topic").hidden = view !== "topic";
    $("detail-empty").hidden = !!view;
  }

  // ------------------------------------------------------------------ filters
  // answered or not, a category, local days, words: the same query parameters on the
  // groups, a group's members and the export (GET /suggestions.xlsx)
  function filters() {
    const f = $("filters").elements;
    const q = new URLSearchParams({ area: state.area });
    for (const name of ["answered", "category", "first", "last", "q"]) {
      const v = f.namedItem(name).value.trim();
      if (v) q.set(name, v);
    }
    return q;
  }

  function fillCategories() {
    const box = $("filters").elements.namedItem("category");
    const kept = box.value;
    box.replaceChildren(box.options[0]);
    for (const [code, n] of names.entries("suggestion_categories")) {
      const o = el("option", pick(n.zh, n.en));
      o.value = code;
      Object.assign(o.dataset, { zh: n.zh, en: n.en });
      box.append(o);
    }
    box.value = kept;
  }

  function exportLink() {
    $("export").href = API + "/suggestions.xlsx?" + filters();
  }

  $("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    reloadGroups();
  });
  $("filters").addEventListener("reset", () => setTimeout(reloadGroups)); // after the fields clear
  $("filters").addEventListener("change", exportLink);
  $("filters").addEventListener("input", exportLink);

  async function reloadGroups() {
    state.gen += 1;
    const error = $("filters").querySelector(".error");
    error.hidden = true;
    try {
      await loadGroups();
    } catch (e) {
      return fail(error, e.message);
    }
    if (state.view === "group" && state.group) openGroup(state.group, false, true).catch(() => {});
  }

  // ------------------------------------------------------------------ suggestions
  async function loadGroups() {
    const gen = state.gen;
    const q = filters();
    const groups = await get(API + "/groups?" + q);
    if (gen !== state.gen) return null;
    exportLink();
    const list = $("groups");
    list.replaceChildren();
    list.dataset.query = q.toString(); // what the list now shows (a test waits on it)
    const total = groups.reduce((n, g) => n + g.count, 0);
    const open = groups.reduce((n, g) => n + g.unanswered, 0);
    $("groups-count").textContent = String(groups.length);
    $("filtered").textContent = pick(`${groups.length} 组，${total} 条建议，其中未答复 ${open} 条`, `${groups.length} groups, ${total} suggestions, ${open} unanswered`);
    const narrowed = [...q.keys()].length > 1; // more than the area
    if (!groups.length) list.append(narrowed ? bi("li", "没有符合条件的建议", "No suggestions match", "empty") : bi("li", "暂无建议", "No suggestions yet", "empty"));
    for (const g of groups) {
      const li = el("li");
      const b = el("button", null, "group");
      b.type = "button";
      b.dataset.action = "open-group";
      b.dataset.id = g.id;
      if (state.group && state.group.id === g.id) b.setAttribute("aria-current", "true");
      b.append(el("b", String(g.count), "n"), el("span", g.title || g.label, "label"));
      const status = g.unanswered ? pick(`未答复 ${g.unanswered}`, `${g.unanswered} unanswered`) : pick("已全部答复", "all answered");
      b.append(el("span", [pick(g.category.zh, g.category.en), g.areas.map((a) => a.name).join("、"), when(g.latest), status].filter(Boolean).join(" · "), "meta" + (g.unanswered ? " open" : "")));
      b.addEventListener("click", () => openGroup(g));
      li.append(b);
      list.append(li);
    }
    return groups;
  }

  // the group on the right: its title, one answer for all, its members collapsed
  // (`quiet`: redrawn in place, e.g. after an answer, without scrolling)
  async function openGroup(g, more = false, quiet = false) {
    state.group = g;
    if (!more) state.page = 1;
    for (const b of document.querySelectorAll("#groups button.group")) {
      if (b.dataset.id === g.id) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
    showDetail("group");
    $("group-title").textContent = g.title || g.label || "";
    $("group-meta").textContent = [
      pick(`${g.count} 条建议`, `${g.count} suggestions`),
      g.unanswered ? pick(`未答复 ${g.unanswered}`, `${g.unanswered} unanswered`) : pick("已全部答复", "all answered"),
      pick(g.category.zh, g.category.en),
      g.areas.map((a) => a.name).join("、"),
      g.terms.length ? pick("关键词：", "keywords: ") + g.terms.join(" · ") : "",
    ].filter(Boolean).join(" · ");
    $("group-answer").dataset.id = g.id;
    $("group-answer-count").textContent = pick(`（${g.count} 条）`, `(${g.count})`);
    $("members-count").textContent = String(g.count);
    if (!more && !quiet) {
      $("group-answer").querySelector(".done").hidden = true;
      $("group-answer").querySelector(".error").hidden = true;
      $("members").open = g.count <= 3; // a few are read at once; 88 wait for a click
    }
    const q = filters();
    q.delete("answered"); // every member, each with its own answer or none
    q.set("group", g.id);
    q.set("page", state.page);
    q.set("per_page", PER_PAGE);
    const body = await get(API + "/suggestions?" + q);
    if (state.group !== g) return;
    const list = $("suggestions");
    if (!more) list.replaceChildren();
    for (const s of body.items) list.append(suggestionItem(s, g));
    if (!body.total) list.append(bi("li", "没有建议", "No suggestions", "empty"));
    $("suggestions-more").hidden = state.page * PER_PAGE >= body.total;
    if (!more && !quiet) $("detail").scrollIntoView({ behavior: "smooth", block: "nearest" });
  }

  $("suggestions-more").addEventListener("click", () => {
    if (!state.group) return;
    state.page += 1;
    openGroup(state.group, true);
  });

  // one answer for the whole group: each member in my areas gets it (one request)
  $("group-answer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const error = form.querySelector(".error");
    const done = form.querySelector(".done");
    busy(form, async () => {
      error.hidden = true;
      done.hidden = true;
      const text = form.elements.namedItem("text").value.trim();
      if (!text) return fail(error, pick("请填写答复", "Write the answer"));
      const overwrite = form.elements.namedItem("overwrite").checked;
      const r = await call("POST", API + "/groups/" + encodeURIComponent(form.dataset.id) + "/answer", { text, overwrite });
      if (!r.ok) return fail(error, r.error);
      done.textContent = pick(`已答复 ${r.body.answered} 条`, `Answered ${r.body.answered}`) + (r.body.kept ? pick(`；${r.body.kept} 条保留了单独的答复`, `; ${r.body.kept} kept their own answer`) : "");
      done.hidden = false;
      form.elements.namedItem("text").value = "";
      form.elements.namedItem("overwrite").checked = false;
      // the list's new counts; the group again with them (gone from the list when
      // the filter was "unanswered": shown as it is now, all answered)
      state.gen += 1;
      const groups = await loadGroups();
      const id = form.dataset.id;
      const fresh = (groups || []).find((x) => x.id === id) || { ...state.group, unanswered: 0 };
      if (state.group && state.group.id === id) await openGroup(fresh, false, true);
    });
  });

  function suggestionItem(s, g) {
    const li = el("li", null, "suggestion card");
    li.dataset.id = s.id;
    li.append(el("div", [when(s.created_at), s.area.name, names.shown("suggestion_channels", s.channel), pick(s.category.zh, s.category.en), s.signed_in ? pick("实名", "signed in") : pick("匿名", "anonymous"), s.id].join(" · "), "meta"));
    li.append(el("p", s.text, "text"));
    if (s.terms.length) li.append(el("div", pick("关键词：", "Terms: ") + s.terms.join(" · "), "meta"));
    const status = el("div", null, "status");
    if (s.answer) status.append(bi("div", "已答复：" + s.answer, "(answered " + when(s.answered_at) + " by " + (s.answered_by || "") + ")", "answered"));
    if (s.case_key) {
      const c = s.case;
      const line = c ? bi("div", "已转工单 " + c.id + " · " + c.state_zh, "Case: " + c.state_en, "as-case") : bi("div", "已转工单（立案中）" + s.case_key, "Case being opened", "as-case");
      if (c) line.dataset.state = c.state;
      status.append(line);
    }
    if (s.topic_id) {
      const t = bi("a", "已列入议题 " + s.topic_id, "On a topic", "as-topic");
      t.href = "#topic=" + encodeURIComponent(s.topic_id);
      t.addEventListener("click", (ev) => { ev.preventDefault(); openTopic(s.topic_id); });
      status.append(t);
    }
    li.append(status);

    // this one alone (an answer of its own, a case, a topic): folded away, since the
    // group's one answer is the usual way
    const moves = el("details", null, "moves");
    moves.dataset.manage = "";
    moves.append(bi("summary", "单独处理", "Handle this one alone"));
    const form = el("form", null, "suggestion-moves");
    const answer = input("answer", { tag: "textarea", rows: "2", maxlength: "4000", placeholder: pick("答复居民", "Answer the resident") });
    if (s.answer) answer.value = s.answer;
    // a new topic (its title), or one of the open topics the suggestion belongs on
    const onTopic = select("topic", [["", pick("新议题", "New topic")], ...state.topics.filter((t) => t.step.code !== "resolve").map((t) => [t.id, t.title + " · " + t.area.name])]);
    const title = input("title", { maxlength: "200", placeholder: pick("议题标题", "Topic title") });
    onTopic.addEventListener("change", () => { title.hidden = !!onTopic.value; });
    title.value = (g && g.title) || s.text.slice(0, 40); // the group's title: its most representative words
    const error = errorLine();
    const answerB = button("答复", "Answer", "answer");
    const caseB = button("转为工单", "Make a case", "to-case", "secondary");
    caseB.disabled = !!s.case_key;
    const topicB = button("列为议题", "Make a topic", "to-topic", "secondary");
    topicB.disabled = !!s.topic_id;
    form.append(answer, el("div", null, "buttons"), onTopic, title, el("div", null, "buttons"), error);
    form.children[1].append(answerB, caseB);
    form.children[4].append(topicB);
    form.addEventListener("submit", (ev) => ev.preventDefault());

    answerB.addEventListener("click", () => busy(form, async () => {
      error.hidden = true;
      if (!answer.value.trim()) return fail(error, pick("请填写答复", "Write the answer"));
      const r = await call("POST", API + "/suggestions/" + encodeURIComponent(s.id) + "/answer", { text: answer.value.trim() });
      if (!r.ok) return fail(error, r.error);
      li.replaceWith(suggestionItem(r.body, g));
    }));
    caseB.addEventListener("click", () => busy(form, async () => {
      error.hidden = true;
      const r = await call("POST", API + "/suggestions/" + encodeURIComponent(s.id) + "/case");
      if (!r.ok) return fail(error, r.error);
      li.replaceWith(suggestionItem(r.body, g));
    }));
    topicB.addEventListener("click", () => busy(form, async () => {
      error.hidden = true;
      if (!onTopic.value && !title.value.trim()) return fail(error, pick("请填写议题标题", "Write the topic's title"));
      const body = onTopic.value ? { topic_id: onTopic.value } : { title: title.value.trim() };
      const r = await call("POST", API + "/suggestions/" + encodeURIComponent(s.id) + "/topic", body);
      if (!r.ok) return fail(error, r.error);
      li.replaceWith(suggestionItem({ ...s, topic_id: r.body.id }, g));
      await loadTopics();
      if (g && state.group === g) await openGroup(g).catch(() => {}); // the new topic in every picker
      openTopic(r.body.id);
    }));
    moves.append(form);
    li.append(moves);
    return li;
  }

  // ------------------------------------------------------------------ topics
  async function loadTopics() {
    const gen = state.gen;
    const body = await get(API + "/topics?" + new URLSearchParams({ area: state.area, per_page: 100 }));
    if (gen !== state.gen) return;
    state.topics = body.items;
    $("topics-count").textContent = String(body.total);
    const list = $("topics");
    list.replaceChildren();
    if (!body.items.length) list.append(bi("li", "暂无议题", "No topics yet", "empty"));
    for (const t of body.items) {
      const li = el("li");
      const b = el("button", null, "topic-item step-" + t.step.code);
      b.type = "button";
      b.dataset.action = "open-topic";
      b.dataset.id = t.id;
      if (state.topic === t.id) b.setAttribute("aria-current", "true");
      b.append(el("span", pick(t.step.zh, t.step.en), "step"), el("b", t.title, "title"));
      const due = t.step.code !== "resolve" && t.step_due_at ? pick("期限 ", "due ") + when(t.step_due_at) : "";
      b.append(el("span", [t.area.name, names.zh("topic_kinds", t.kind), due, t.id].filter(Boolean).join(" · "), "meta"));
      b.addEventListener("click", () => openTopic(t.id));
      li.append(b);
      list.append(li);
    }
  }

  $("new-topic").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const error = form.querySelector(".error");
    busy(form, async () => {
      error.hidden = true;
      const f = form.elements;
      const body = { title: f.namedItem("title").value.trim(), description: f.namedItem("description").value.trim(), area: state.area, kind: f.namedItem("kind").value };
      if (!body.title) return fail(error, pick("请填写标题", "Write a title"));
      const r = await call("POST", API + "/topics", body);
      if (!r.ok) return fail(error, r.error);
      form.reset();
      $("new-topic-box").open = false;
      await loadTopics();
      renderTopic(r.body);
    });
  });

  async function openTopic(id, quiet = false) {
    state.topic = id;
    for (const b of document.querySelectorAll("#topics button.topic-item")) {
      if (b.dataset.id === id) b.setAttribute("aria-current", "true");
      else b.removeAttribute("aria-current");
    }
    const r = await call("GET", API + "/topics/" + encodeURIComponent(id));
    if (state.topic !== id) return;
    if (!r.ok) {
      const box = $("topic");
      showDetail("topic");
      box.replaceChildren(el("p", r.error, "error"));
      return;
    }
    renderTopic(r.body);
    if (!quiet) $("topic").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function section(zh, en, id) {
    const s = el("section", null, "block");
    s.id = id;
    s.append(bi("h4", zh, en));
    return s;
  }

  function renderTopic(t) {
    state.topic = t.id;
    history.replaceState(null, "", "#topic=" + encodeURIComponent(t.id));
    const box = $("topic");
    showDetail("topic");
    box.dataset.id = t.id;
    box.dataset.step = t.step.code;
    box.replaceChildren();
    box.append(el("h3", t.title, "topic-title"));
    box.append(el("p", [t.id, t.area.name, names.shown("topic_kinds", t.kind), pick("法定人数 ", "quorum ") + t.rules.quorum, pick("多数 > ", "majority > ") + t.rules.majority, pick("建议 ", "suggestions ") + t.suggestions].join(" · "), "meta"));
    if (t.description) box.append(el("p", t.description, "description"));
    box.append(progress(t));
    if (t.step.code !== "resolve") box.append(advanceForm(t));
    box.append(meetings(t), ballot(t), resolution(t));
  }

  function progress(t) {
    const known = steps();
    const STEPS = known.length ? known : [t.step]; // without the names (no /meta): where it is
    const current = STEPS.findIndex((s) => s.code === t.step.code);
    const records = {};
    for (const r of t.steps) records[r.code] = r; // the latest move into each step
    const ol = el("ol", null, "steps");
    ol.id = "steps";
    STEPS.forEach((s, i) => {
      const li = el("li", null, i < current ? "done" : i === current ? "current" : "todo");
      li.dataset.step = s.code;
      if (i === current) li.setAttribute("aria-current", "step");
      li.append(el("span", String(i + 1), "num"), bi("b", s.zh, s.en));
      const r = records[s.code];
      if (r) {
        li.append(el("time", when(r.at)), el("span", r.actor, "actor"));
        if (r.note) li.append(el("span", r.note, "note"));
      }
      if (i === current && t.step_due_at && s.code !== "resolve") {
        const late = new Date(t.step_due_at) < clock.now();
        const due = el("span", (late ? pick("已超期 ", "overdue · ") : pick("期限 ", "due ")) + when(t.step_due_at), "due" + (late ? " overdue" : ""));
        due.id = "step-due";
        li.append(due);
      }
      ol.append(li);
    });
    return ol;
  }

  function advanceForm(t) {
    const all = steps();
    const next = all[all.findIndex((s) => s.code === t.step.code) + 1] || { zh: "", en: "" };
    const form = el("form", null, "advance");
    form.id = "advance";
    form.dataset.manage = "";
    const note = input("note", { tag: "textarea", rows: "2", maxlength: "2000", placeholder: pick("说明", "Note (optional)") });
    note.id = "advance-note";
    const b = button("进入下一步：" + next.zh, "Advance to: " + next.en, "advance");
    b.id = "advance-button";
    const error = errorLine();
    error.id = "advance-error";
    form.append(field("说明", "Note", note), b, error);
    form.addEventListener("submit", (ev) => ev.preventDefault());
    b.addEventListener("click", () => busy(form, async () => {
      error.hidden = true;
      const r = await call("POST", API + "/topics/" + encodeURIComponent(t.id) + "/advance", { note: note.value.trim() });
      if (!r.ok) return fail(error, r.error);
      renderTopic(r.body);
      loadTopics();
    }));
    return form;
  }

  // ------------------------------------------------------------------ meetings
  function meetings(t) {
    const s = section("会议", "Meetings", "meetings-section");
    const ol = el("ol", null, "meetings");
    ol.id = "meetings";
    if (!t.meetings.length) ol.append(bi("li", "尚无会议", "No meetings yet", "empty"));
    for (const m of t.meetings) ol.append(meeting(t, m));
    s.append(ol);
    if (t.step.code !== "resolve") s.append(newMeeting(t));
    return s;
  }

  function meeting(t, m) {
    const li = el("li", null, "meeting card");
    li.dataset.id = m.id;
    li.append(el("div", [names.shown("meeting_modes", m.mode), when(m.at), m.place, m.id].filter(Boolean).join(" · "), "meeting-head"));
    if (m.agenda.length) {
      const ag = el("ol", null, "agenda");
      for (const a of m.agenda) ag.append(el("li", a));
      li.append(bi("h5", "议程", "Agenda"), ag);
    }
    li.append(bi("h5", "参会人", "Participants"));
    const people = el("ul", null, "participants");
    if (!m.participants.length) people.append(bi("li", "暂无", "None yet", "empty"));
    for (const p of m.participants) {
      const item = el("li", "#" + p.n + " " + names.shown("participant_roles", p.role) + " · " + (p.name || pick("（居民姓名不公开）", "(name withheld)")) + (p.signed_in ? pick(" · ✓ 已签到", " · ✓ signed in") : ""));
      item.dataset.n = p.n;
      people.append(item);
    }
    li.append(people);

    const error = errorLine();
    const url = API + "/meetings/" + encodeURIComponent(m.id);
    // add a participant: a user (by username) or someone named
    const add = el("form", null, "inline add-participant");
    add.dataset.manage = "";
    const role = select("role", names.entries("participant_roles").map(([k, v]) => [k, pick(v.zh, v.en)]));
    const user = input("user", { maxlength: "64", placeholder: pick("用户名", "username") });
    const name = input("name", { maxlength: "128", placeholder: pick("或姓名", "or a name") });
    add.append(role, user, name, button("添加参会人", "Add participant", "add-participant"));
    add.addEventListener("submit", (ev) => ev.preventDefault());
    add.querySelector("button").addEventListener("click", () => busy(add, async () => {
      error.hidden = true;
      const body = { role: role.value };
      if (user.value.trim()) body.user = user.value.trim();
      if (name.value.trim()) body.name = name.value.trim();
      if (!body.user === !body.name) return fail(error, pick("填用户名或姓名（二选一）", "Give a username or a name, one of them"));
      const r = await call("POST", url + "/participants", body);
      if (!r.ok) return fail(error, r.error);
      openTopic(t.id);
    }));
    li.append(add);

    if (m.mode === "online" || m.turns.length) {
      li.append(bi("h5", "线上发言", "Online discussion"));
      const turns = el("ol", null, "turns");
      if (!m.turns.length) turns.append(bi("li", "暂无发言", "No turns yet", "empty"));
      for (const x of m.turns) {
        const item = el("li");
        item.append(el("span", "#" + x.speaker + " " + names.zh("participant_roles", x.role) + " · " + when(x.at), "meta"), el("p", x.text));
        turns.append(item);
      }
      li.append(turns);
    }

    li.append(bi("h5", "纪要", "Minutes"));
    const minutes = el("form", null, "minutes");
    const text = input("minutes", { tag: "textarea", rows: "3", maxlength: "4000" });
    text.value = m.minutes || "";
    text.readOnly = !manager();
    const save = button("保存纪要", "Save minutes", "save-minutes", "secondary");
    save.dataset.manage = "";
    minutes.append(text, save);
    minutes.addEventListener("submit", (ev) => ev.preventDefault());
    minutes.querySelector("button").addEventListener("click", () => busy(minutes, async () => {
      error.hidden = true;
      if (!text.value.trim()) return fail(error, pick("请填写纪要", "Write the minutes"));
      const r = await call("PUT", url + "/minutes", { text: text.value.trim() });
      if (!r.ok) return fail(error, r.error);
      openTopic(t.id);
    }));
    li.append(minutes);

    li.append(bi("h5", "会议决定", "Decisions"));
    const decided = el("ul", null, "decisions");
    for (const d of m.decisions) decided.append(el("li", d));
    li.append(decided);
    const decide = el("form", null, "inline add-decision");
    decide.dataset.manage = "";
    const decision = input("decision", { maxlength: "4000", placeholder: pick("决定", "A decision") });
    decide.append(decision, button("添加决定", "Add decision", "add-decision", "secondary"));
    decide.addEventListener("submit", (ev) => ev.preventDefault());
    decide.querySelector("button").addEventListener("click", () => busy(decide, async () => {
      error.hidden = true;
      if (!decision.value.trim()) return fail(error, pick("请填写决定", "Write the decision"));
      const r = await call("POST", url + "/decisions", { text: decision.value.trim() });
      if (!r.ok) return fail(error, r.error);
      openTopic(t.id);
    }));
    li.append(decide, error);
    return li;
  }

  function newMeeting(t) {
    const form = el("form", null, "new-meeting stack");
    form.id = "new-meeting";
    form.dataset.manage = "";
    const mode = select("mode", names.entries("meeting_modes").map(([k, v]) => [k, pick(v.zh, v.en)]));
    const at = input("at", { type: "datetime-local", required: "required" });
    // 19:00 on the server's tomorrow (a replayed day's in a demo), on the district's clock
    at.value = time.day(clock.now() + 86400000) + "T19:00";
    const place = input("place", { maxlength: "200", placeholder: pick("社区议事厅 / 线上", "place") });
    const agenda = input("agenda", { tag: "textarea", rows: "2", placeholder: pick("每行一项", "one item a line") });
    // who runs it: staff, or one of the community's facilitators (促动师), counted as theirs
    const moderator = select("moderator", [["", pick("工作人员", "Staff")]]);
    let community = t.area.code;
    while (state.areas[community] && state.areas[community].level === "grid") community = state.areas[community].parent;
    get("/api/v1/participation/facilitators?area=" + encodeURIComponent(community)).then((found) => {
      for (const f of found.items.filter((x) => x.active)) moderator.append(Object.assign(el("option", pick("促动师 ", "Facilitator ") + f.name), { value: f.user }));
    }).catch(() => {});
    const error = errorLine();
    form.append(bi("h5", "新会议", "New meeting"), field("方式", "Mode", mode), field("时间", "Time", at), field("地点", "Place", place), field("议程", "Agenda", agenda), field("主持", "Run by", moderator), button("创建会议", "Create meeting", "create-meeting"), error);
    form.addEventListener("submit", (ev) => ev.preventDefault());
    form.querySelector("button").addEventListener("click", () => busy(form, async () => {
      error.hidden = true;
      if (!at.value) return fail(error, pick("请选择时间", "Choose the time"));
      const items = agenda.value.split("\n").map((x) => x.trim()).filter(Boolean);
      const r = await call("POST", API + "/topics/" + encodeURIComponent(t.id) + "/meetings", { mode: mode.value, at: zoned(at.value), place: place.value.trim(), agenda: items, moderator: moderator.value || null });
      if (!r.ok) return fail(error, r.error);
      openTopic(t.id);
    }));
    return form;
  }

  // ------------------------------------------------------------------ ballot
  function ballot(t) {
    const s = section("表决", "Ballot", "ballot");
    const b = t.ballot;
    if (b) {
      const opts = el("ol", null, "options");
      opts.id = "ballot-options";
      for (const o of b.options) opts.append(el("li", o));
      s.append(opts);
      const status = b.closed ? pick("已关闭 ", "closed ") + when(b.closed_at) : t.step.code === "vote" ? pick("投票中", "open for votes") : pick("草案", "draft");
      s.append(el("p", [status, b.closes_at ? pick("截止 ", "closes ") + when(b.closes_at) : ""].filter(Boolean).join(" · "), "meta ballot-status"));
    } else {
      s.append(bi("p", "尚未拟订表决票（在“拟订方案”一步拟订）", "No ballot yet (drafted at 拟订方案)", "meta"));
    }
    if (t.step.code === "draft") s.append(ballotForm(t));
    if (t.step.code === "vote" && b && !b.closed) {
      const form = el("form");
      form.dataset.manage = "";
      const close = button("关闭表决并计票", "Close the vote and count", "close-ballot");
      close.id = "close-ballot";
      const error = errorLine();
      form.append(close, error);
      form.addEventListener("submit", (ev) => ev.preventDefault());
      close.addEventListener("click", () => busy(form, async () => {
        error.hidden = true;
        const r = await call("POST", API + "/topics/" + encodeURIComponent(t.id) + "/ballot/close");
        if (!r.ok) return fail(error, r.error);
        renderTopic(r.body);
      }));
      s.append(form);
    }
    if (t.tally) s.append(tallyTable(t.tally));
    return s;
  }

  function ballotForm(t) {
    const form = el("form", null, "stack");
    form.id = "ballot-form";
    form.dataset.manage = "";
    const options = input("options", { tag: "textarea", rows: "3", placeholder: pick("每行一个选项（至少两个）", "one option a line (two at least)") });
    options.value = t.ballot ? t.ballot.options.join("\n") : pick("同意\n不同意", "Agree\nDisagree");
    const closes = input("closes_at", { type: "datetime-local" });
    if (t.ballot && t.ballot.closes_at) closes.value = localInput(t.ballot.closes_at);
    const quorum = input("quorum", { maxlength: "16", placeholder: t.rules.quorum });
    const majority = input("majority", { maxlength: "16", placeholder: t.rules.majority });
    const error = errorLine();
    const rules = el("div", null, "row");
    rules.append(field("法定人数", "Quorum", quorum), field("多数", "Majority", majority));
    form.append(field("选项", "Options", options), field("截止时间（可选）", "Closes at (optional)", closes), rules, button("保存表决票", "Save the ballot", "save-ballot"), error);
    form.addEventListener("submit", (ev) => ev.preventDefault());
    form.querySelector("button[data-action=save-ballot]").addEventListener("click", () => busy(form, async () => {
      error.hidden = true;
      const body = { options: options.value.split("\n").map((x) => x.trim()).filter(Boolean) };
      if (body.options.length < 2) return fail(error, pick("至少两个选项", "Two options at least"));
      if (closes.value) body.closes_at = zoned(closes.value);
      if (quorum.value.trim()) body.quorum = quorum.value.trim();
      if (majority.value.trim()) body.majority = majority.value.trim();
      const r = await call("PUT", API + "/topics/" + encodeURIComponent(t.id) + "/ballot", body);
      if (!r.ok) return fail(error, r.error);
      renderTopic(r.body);
    }));
    return form;
  }

  function tallyTable(x) {
    const box = el("div", null, "tally");
    box.id = "tally";
    box.dataset.passed = String(x.passed);
    const verdict = bi("p", x.passed ? "表决通过" : "表决未通过", x.passed ? "Passed" : "Not passed", "verdict " + (x.passed ? "passed" : "failed"));
    verdict.id = "tally-verdict";
    box.append(verdict);
    const facts = el("dl", null, "facts");
    const fact = (key, zh, en, value) => {
      const dt = bi("dt", zh, en);
      const dd = el("dd", value);
      dd.dataset.field = key;
      facts.append(dt, dd);
    };
    fact("eligible", "有表决权", "Eligible", String(x.eligible));
    fact("voters", "参加表决", "Voters", String(x.voters));
    fact("quorum_met", "达到法定人数", "Quorum met", x.quorum_met ? pick("是", "yes") : pick("否", "no"));
    fact("winner", "得票最多", "Leading option", x.winner || "—");
    fact("passed", "通过", "Passed", x.passed ? pick("是", "yes") : pick("否", "no"));
    box.append(facts);
    const table = el("table", null, "counts");
    const head = el("tr");
    head.append(bi("th", "选项", "Option"), bi("th", "票数", "Votes"), el("th", "%"));
    table.append(head);
    for (const [option, n] of Object.entries(x.counts)) {
      const tr = el("tr");
      tr.dataset.option = option;
      const share = x.voters ? n / x.voters : 0;
      const bar = el("td", null, "bar");
      const fill = el("span");
      fill.style.width = (share * 100).toFixed(1) + "%";
      bar.append(fill, el("b", (share * 100).toFixed(1) + "%"));
      tr.append(el("td", option), el("td", String(n), "num"), bar);
      table.append(tr);
    }
    box.append(table);
    return box;
  }

  // ------------------------------------------------------------------ resolution
  function covers(party, area) {
    for (let a = area; a; a = state.areas[a] && state.areas[a].parent) if (party.areas.includes(a)) return true;
    return false;
  }

  function resolution(t) {
    const s = section("决议", "Resolution", "resolution-section");
    const res = t.resolution;
    if (res) {
      s.append(el("p", res.text, "resolution-text"), el("p", pick("形成于 ", "resolved ") + when(res.at), "meta"));
      const ol = el("ol", null, "actions");
      ol.id = "actions";
      if (!res.actions.length) ol.append(bi("li", "无行动项", "No actions", "empty"));
      for (const a of res.actions) {
        const li = el("li", null, "action card");
        li.dataset.n = a.n;
        li.dataset.caseKey = a.case_key;
        li.append(el("b", a.title), el("div", [a.party.name, pick("期限 ", "due ") + when(a.due_at)].join(" · "), "meta"));
        const c = a.case;
        const st = c ? el("div", "工单 " + c.id + " · " + c.state_zh + " " + c.state_en, "case-state state-" + c.state) : bi("div", "工单待立案", "Case being opened", "case-state pending");
        if (c) st.dataset.state = c.state;
        li.append(st);
        ol.append(li);
      }
      s.append(ol);
      // the engine opens the actions' cases a moment after the resolution (after its
      // lateness hold): look again a few times, quietly
      const looks = state.looks[t.id] || 0;
      if (res.actions.some((a) => !a.case) && looks < 6) {
        state.looks[t.id] = looks + 1;
        setTimeout(() => { if (state.topic === t.id) openTopic(t.id, true); }, 3000);
      }
      if (res.actions.some((a) => !a.case || a.case.state !== "closed")) {
        const again = button("刷新工单状态", "Refresh case states", "refresh-topic", "secondary");
        again.addEventListener("click", () => openTopic(t.id, true));
        s.append(again);
      }
    } else if (t.step.code === "resolve") {
      s.append(resolutionForm(t));
    } else {
      s.append(bi("p", "表决通过后在“形成决议”一步填写", "Written at the resolution step, after the vote passed", "meta"));
    }
    return s;
  }

  function actionRow(t) {
    const row = el("div", null, "action-row");
    const title = input("action_title", { maxlength: "200", placeholder: pick("行动", "Action") });
    const near = state.parties.filter((p) => covers(p, t.area.code));
    const party = select("party", [...near, ...state.parties.filter((p) => !near.includes(p))].map((p) => [p.id, p.name + (p.non_government ? pick(" · 共治", " · co-governance") : "")]));
    const days = input("due_days", { type: "number", min: "1", max: "365", value: "7" });
    const remove = button("删除", "Remove", "remove-action", "secondary small");
    remove.addEventListener("click", () => row.remove());
    row.append(field("行动", "Action", title), field("责任方", "Party", party), field("期限（天）", "Due in days", days), remove);
    return row;
  }

  function resolutionForm(t) {
    const form = el("form", null, "stack");
    form.id = "resolution-form";
    form.dataset.manage = "";
    const text = input("text", { tag: "textarea", rows: "3", maxlength: "4000" });
    if (t.tally && t.tally.winner) text.value = "经居民表决通过：" + t.tally.winner;
    const rows = el("div", null, "action-rows");
    rows.id = "action-rows";
    rows.append(actionRow(t));
    const more = button("添加行动", "Add action", "add-action", "secondary");
    more.addEventListener("click", () => rows.append(actionRow(t)));
    const error = errorLine();
    const submit = button("形成决议", "Adopt the resolution", "resolve");
    submit.id = "resolve";
    form.append(field("决议内容", "Resolution", text), bi("h5", "行动项（各成为一件工单）", "Actions (each becomes a case)"), rows, more, submit, error);
    form.addEventListener("submit", (ev) => ev.preventDefault());
    submit.addEventListener("click", () => busy(form, async () => {
      error.hidden = true;
      if (!text.value.trim()) return fail(error, pick("请填写决议内容", "Write the resolution"));
      const actions = [];
      for (const row of rows.querySelectorAll(".action-row")) {
        const title = row.querySelector("[name=action_title]").value.trim();
        if (!title) continue; // an empty row is no action
        actions.push({ title, party: row.querySelector("[name=party]").value, due_days: Number(row.querySelector("[name=due_days]").value) || 7 });
      }
      const r = await call("POST", API + "/topics/" + encodeURIComponent(t.id) + "/resolution", { text: text.value.trim(), actions });
      if (!r.ok) return fail(error, r.error);
      renderTopic(r.body);
      loadTopics();
    }));
    return form;
  }

  // ------------------------------------------------------------------ residents
  // 居民核验: who may vote here. The server keeps to the rules (only this post's
  // areas, only residents); this lists the verified homes under the chosen area and
  // offers a home among its communities and grids.
  function homeOptions() {
    const out = [];
    const add = (code) => {
      const a = state.areas[code];
      if (!a) return;
      if (a.level === "community" || a.level === "grid") out.push([code, (a.level === "grid" ? "\u3000" : "") + a.name]);
      if (a.level !== "grid") for (const k of state.kids[code] || []) add(k);
    };
    add(state.area);
    return out;
  }

  async function loadResidents() {
    if (!manager()) return;
    for (const f of [$("resident-new"), $("resident-verify")]) {
      const box = f.elements.namedItem("area");
      const kept = box.value;
      box.replaceChildren(...homeOptions().map(([code, label]) => Object.assign(el("option", label), { value: code })));
      if (kept) box.value = kept;
    }
    const list = await get("/api/v1/residents?area=" + encodeURIComponent(state.area));
    $("residents-count").textContent = pick(list.length + " 人", list.length + " verified");
    $("residents").replaceChildren(...list.map((r) => {
      const li = el("li", "");
      li.dataset.username = r.username;
      const withdraw = button("撤销核验", "Withdraw", "withdraw-resident", "secondary small");
      const error = errorLine();
      withdraw.addEventListener("click", () => busy(li, async () => {
        if (!confirm(pick(`撤销 ${r.display_name} 的住址核验？撤销后不能再参加本社区表决。`, `Withdraw ${r.display_name}'s verified home? They will no longer vote here.`))) return;
        const done = await call("DELETE", `/api/v1/residents/${encodeURIComponent(r.username)}/home`);
        if (!done.ok) return fail(error, done.error);
        await loadResidents();
      }));
      li.append(el("span", `${r.display_name}（${r.username}）`, "who"), el("span", r.home ? r.home.name : "", "meta"), withdraw, error);
      return li;
    }));
  }

  $("resident-new").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const error = f.querySelector(".error");
    const shown = f.querySelector(".password");
    error.hidden = true;
    shown.hidden = true;
    busy(f, async () => {
      const body = { username: f.elements.namedItem("username").value.trim(), display_name: f.elements.namedItem("display_name").value.trim(), area: f.elements.namedItem("area").value };
      if (!body.username) return fail(error, pick("请填写用户名", "Enter a username"));
      const done = await call("POST", "/api/v1/residents", body);
      if (!done.ok) return fail(error, done.status === 422 && /taken/.test(done.body && done.body.detail) ? pick("这个用户名已被使用", "That username is taken") : done.error);
      // the initial password, this once: the resident signs in with it and changes it
      shown.replaceChildren(pick("已登记。初始密码（只显示这一次，请交给居民）：", "Registered. Initial password (shown this once; give it to the resident): "), el("b", done.body.password));
      shown.hidden = false;
      f.elements.namedItem("username").value = "";
      f.elements.namedItem("display_name").value = "";
      await loadResidents();
    });
  });

  $("resident-verify").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const error = f.querySelector(".error");
    error.hidden = true;
    busy(f, async () => {
      const username = f.elements.namedItem("username").value.trim();
      if (!username) return fail(error, pick("请填写用户名", "Enter a username"));
      const done = await call("PUT", `/api/v1/residents/${encodeURIComponent(username)}/home`, { area: f.elements.namedItem("area").value });
      if (!done.ok) {
        const words = { 404: ["没有这个居民账号", "No resident with that username"], 403: ["这位居民的住址由其他社区核验，请先在那里撤销", "Their home is verified by another community; withdraw it there first"] }[done.status];
        return fail(error, words ? pick(words[0], words[1]) : done.error);
      }
      f.elements.namedItem("username").value = "";
      await loadResidents();
    });
  });

  // ------------------------------------------------------------------ more sections
  // a section of its own script (council/briefings.js: 线上宣讲 and 促动师) reloads with
  // the page, for the chosen area, with these helpers
  const sections = [];
  window.cityeye.council = {
    call, get, button, field, input, select, errorLine, fail, busy, when, localInput, zoned,
    areaName, manager, notice, area: () => state.area, me: () => state.me,
    onLoad: (load) => sections.push(load),
  };

  // ------------------------------------------------------------------ start
  async function loadAll() {
    state.gen += 1;
    notice("");
    const jobs = [
      loadTopics(),
      loadGroups().catch((e) => notice(pick("社情民意不可用：", "Suggestions unavailable: ") + e.message)),
      loadResidents().catch((e) => notice(pick("居民核验不可用：", "Residents unavailable: ") + e.message)),
      ...sections.map((load) => load().catch((e) => notice(e.message))),
    ];
    await Promise.all(jobs).catch((e) => notice(e.message));
    // the right column as it was: the group, or the topic (opened by a link: #topic=)
    if (state.view === "group" && state.group) openGroup(state.group, false, true).catch(() => {});
    else if (state.topic && state.view !== "group") openTopic(state.topic, state.view === "topic");
  }

  // #topic=<id>: a link to a topic's record on this page
  const hashTopic = () => decodeURIComponent((location.hash.match(/topic=([^&]+)/) || [])[1] || "");

  $("reload").addEventListener("click", () => loadAll());
  lang.onChange(() => loadAll()); // what the script wrote, again in the chosen language
  $("logout").addEventListener("click", async (ev) => {
    ev.preventDefault();
    await api("/api/v1/auth/logout", { method: "POST" });
    location.assign("/login?next=/council");
  });

  (async function start() {
    const [me] = await Promise.all([get("/api/v1/auth/me"), names.load(), clock.ready]);
    state.me = me;
    document.body.classList.toggle("readonly", !manager());
    $("who").textContent = me.display_name + " (" + names.zh("user_roles", me.role) + ")";
    const [areas, parties] = await Promise.all([get("/api/v1/areas"), get("/api/v1/parties")]);
    for (const a of areas) {
      state.areas[a.code] = a;
      if (a.parent) (state.kids[a.parent] = state.kids[a.parent] || []).push(a.code);
    }
    state.parties = parties;
    const district = areas.find((a) => !a.parent);
    const posts = me.areas.filter((c) => state.areas[c]);
    state.roots = posts.length ? posts : [district.code];
    state.area = state.roots[0];
    fillAreas();
    fillCategories();
    if (!["admin", "dispatcher", "leader"].includes(me.role)) {
      notice(pick("本页供社区工作人员（调度员、管理员）使用", "This page is for community staff (dispatchers, admins)"));
    }
    const wanted = hashTopic();
    if (wanted) state.topic = wanted;
    window.addEventListener("hashchange", () => {
      const id = hashTopic();
      if (id && id !== state.topic) openTopic(id);
    });
    await loadAll();
  })().catch((e) => notice(pick("加载失败：", "Could not load: ") + e.message));
})();
