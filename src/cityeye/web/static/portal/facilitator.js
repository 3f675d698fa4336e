// 促动师 on the portal (issue 21 item 7): a resident or 小区专员 trained as a facilitator
// of a community opens topics there, moves them a step on and calls meetings, from the
// 议事 tab. Shown only to an active facilitator (GET …/facilitators/mine); the server
// keeps to the rule (their community, and only there). Text goes in as text only.
"use strict";
(function () {
  const { request, time, clock, names, lang } = window.cityeye;
  const text = window.cityeye.el;
  const pick = lang.pick;
  const portal = window.cityeye.portal;
  const P = "/api/v1/participation";
  let mine = null; // the facilitation: {community: {code, name}, …}
  const parents = {}; // area → parent (GET /api/v1/areas), to tell a topic's community

  async function send(method, path, body) {
    const r = await request(P + path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { ok: r.ok, status: r.status, body: data, error: r.ok ? "" : lang.refusal(r.status, data && data.detail) };
  }

  function field(zh, en, input) {
    const l = text("label", pick(zh, en));
    l.append(input);
    return l;
  }

  function control(tag, name, attrs = {}) {
    const c = document.createElement(tag);
    c.name = name;
    for (const [k, v] of Object.entries(attrs)) c.setAttribute(k, v);
    return c;
  }

  function failed(p, message) {
    p.textContent = pick("未完成：", "Not done: ") + message;
    p.hidden = false;
  }

  const within = (code) => {
    for (let x = code; x; x = parents[x]) if (x === mine.community.code) return true;
    return false;
  };

  // 发起议题: a topic in the facilitator's community
  function raiseForm() {
    const form = text("form", "", "card facilitator");
    form.id = "facilitator-topic";
    const title = control("input", "title", { maxlength: "200", required: "required" });
    const description = control("textarea", "description", { maxlength: "4000", rows: "2" });
    const go = text("button", pick("发起议题", "Raise the topic"));
    go.type = "submit";
    const error = text("p", "", "error");
    error.hidden = true;
    form.append(
      text("h3", pick("促动师 · " + mine.community.name, "Facilitator · " + mine.community.name)),
      text("p", pick("您可以在本社区发起议题、推进议事步骤、召开会议。", "You may raise topics in your community, move them on and call meetings."), "hint"),
      field("议题", "Topic", title), field("说明", "Description", description), go, error,
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      go.disabled = true;
      const r = await send("POST", "/topics", { title: title.value.trim(), description: description.value.trim(), area: mine.community.code });
      go.disabled = false;
      if (!r.ok) return failed(error, r.error);
      form.reset();
      await portal.loadTopics();
      portal.openTopic(r.body.id, pick("议题已发起", "The topic is raised"));
    });
    return form;
  }

  // on a topic of their community: the next step, and a new meeting
  function moderate(t, box) {
    if (!mine || !within(t.area.code) || t.step.code === "resolve") return;
    const tools = text("div", "", "facilitate");
    tools.id = "facilitate";
    const error = text("p", "", "error");
    error.hidden = true;
    const steps = names.entries("topic_steps");
    const next = steps[t.step.order + 1];
    const note = control("input", "note", { maxlength: "2000" });
    const advance = text("button", pick("推进到：" + next[1].zh, "Move on to: " + next[1].en));
    advance.type = "button";
    advance.dataset.action = "advance";
    advance.addEventListener("click", async () => {
      advance.disabled = true;
      const r = await send("POST", "/topics/" + encodeURIComponent(t.id) + "/advance", { note: note.value.trim() });
      advance.disabled = false;
      if (!r.ok) return failed(error, r.error);
      portal.openTopic(t.id, pick("已推进", "Moved on"));
    });
    const mode = control("select", "mode");
    for (const [code, n] of names.entries("meeting_modes")) mode.append(Object.assign(text("option", pick(n.zh, n.en)), { value: code }));
    const at = control("input", "at", { type: "datetime-local" });
    at.value = time.day(clock.now() + 86400000) + "T19:00"; // 19:00 tomorrow, the district's clock
    const place = control("input", "place", { maxlength: "200" });
    const call = text("button", pick("召开会议（由我主持）", "Call a meeting (I run it)"));
    call.type = "button";
    call.dataset.action = "meeting";
    call.addEventListener("click", async () => {
      call.disabled = true;
      const r = await send("POST", "/topics/" + encodeURIComponent(t.id) + "/meetings", { mode: mode.value, at: time.fromInput(at.value), place: place.value.trim() });
      call.disabled = false;
      if (!r.ok) return failed(error, r.error);
      portal.openTopic(t.id, pick("会议已创建", "The meeting is called"));
    });
    tools.append(
      text("h3", pick("主持议事（促动师）", "Moderate (facilitator)")),
      field("备注", "Note", note), advance,
      field("方式", "Mode", mode), field("时间", "Time", at), field("地点", "Place", place), call, error,
    );
    box.append(tools);
  }

  portal.onTopic(moderate);

  (async function start() {
    const r = await request(P + "/facilitators/mine");
    if (!r.ok) return; // signed out, or staff: nothing here
    const found = await r.json();
    if (!found.active) return;
    const areas = await request("/api/v1/areas");
    if (areas.ok) for (const a of await areas.json()) parents[a.code] = a.parent;
    mine = found;
    await names.load();
    const slot = document.getElementById("facilitator");
    slot.replaceChildren(raiseForm());
    slot.hidden = false;
  })();
})();
