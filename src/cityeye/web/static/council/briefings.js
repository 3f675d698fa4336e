// 线上宣讲 and 促动师 on the council page (issue 21 items 5, 7).
//
// Briefings of the chosen area, the latest first, with the period's counts (sessions,
// enterprises reached, questions answered or made cases); a new briefing draws its
// invitation list from the area's enterprises (by tag, on the server). A briefing
// opens its list — who signed up, who came — and its questions, each answered or
// turned into a case in the closed loop. Below, the area's facilitators (促动师) and
// the meetings they ran, per community. The server decides who may do what; a leader
// sees the same without the forms. Names from the server go in as text only.
"use strict";
(function () {
  const { el, bi, names, lang, time, clock } = window.cityeye;
  const c = window.cityeye.council;
  const pick = lang.pick;
  const API = "/api/v1/briefings";
  const FAC = "/api/v1/participation/facilitators";
  const $ = (id) => document.getElementById(id);
  let open = null; // the briefing shown

  function check(label, checked, onChange) {
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = checked;
    box.disabled = !c.manager();
    box.setAttribute("aria-label", label);
    box.addEventListener("change", () => onChange(box.checked));
    return box;
  }

  async function loadStats() {
    const s = await c.get(API + "/stats?area=" + encodeURIComponent(c.area()));
    $("briefings-stats").textContent = pick(
      `共 ${s.sessions} 场 · 覆盖企业 ${s.enterprises_reached} 家（邀请 ${s.enterprises_invited} 家） · 问题 ${s.questions} 个，已答复 ${s.questions_answered} 个，转工单 ${s.questions_to_cases} 个（已办结 ${s.cases_closed} 个）`,
      `${s.sessions} sessions · ${s.enterprises_reached} enterprises reached (${s.enterprises_invited} invited) · ${s.questions} questions, ${s.questions_answered} answered, ${s.questions_to_cases} made cases (${s.cases_closed} closed)`,
    );
  }

  async function loadBriefings() {
    const found = await c.get(API + "?area=" + encodeURIComponent(c.area()));
    $("briefings-count").textContent = pick(found.total + " 场", String(found.total));
    $("briefings").replaceChildren(...found.items.map((b) => {
      const li = el("li", "");
      li.dataset.briefing = b.id;
      const show = c.button("查看", "Open", "open-briefing", "secondary small");
      show.addEventListener("click", () => openBriefing(b.id));
      li.append(el("span", b.title, "title"), el("span", [names.shown("meeting_modes", b.mode), c.when(b.at), b.area.name].join(" · "), "meta"), show);
      return li;
    }));
    await loadStats();
    if (open) await openBriefing(open, true);
  }

  async function openBriefing(id, quiet = false) {
    open = id;
    const b = await c.get(API + "/" + encodeURIComponent(id));
    const box = $("briefing");
    box.dataset.id = b.id;
    const where = b.mode === "online" ? b.link : b.place;
    box.replaceChildren(
      el("h3", b.title),
      el("p", [names.shown("meeting_modes", b.mode), c.when(b.at), where].filter(Boolean).join(" · "), "meta"),
      el("p", b.topic),
      el("p", pick(`邀请 ${b.invited} 家 · 报名 ${b.signed_up} 家 · 参会 ${b.attended} 家`, `${b.invited} invited · ${b.signed_up} signed up · ${b.attended} came`), "meta tally"),
      roll(b), questions(b),
    );
    if (c.manager()) box.append(askForm(b));
    box.hidden = false;
    if (!quiet) box.scrollIntoView({ block: "nearest" });
  }

  function roll(b) {
    const table = el("table", null, "roll");
    const head = el("tr", null);
    head.append(bi("th", "企业", "Enterprise"), bi("th", "报名", "Signed up"), bi("th", "参会", "Came"));
    table.append(head);
    const error = c.errorLine();
    for (const i of b.invitations) {
      const tr = el("tr", null);
      tr.dataset.subject = i.subject;
      const put = (body) => c.busy(table, async () => {
        const r = await c.call("PUT", `${API}/${encodeURIComponent(b.id)}/invitations/${encodeURIComponent(i.subject)}`, body);
        if (!r.ok) c.fail(error, r.error);
        await openBriefing(b.id, true);
        await loadStats();
      });
      const up = el("td", null);
      up.append(check(pick("报名：", "Signed up: ") + i.name, !!i.signed_up_at, (v) => put({ signed_up: v })));
      const came = el("td", null);
      came.append(check(pick("参会：", "Came: ") + i.name, !!i.attended_at, (v) => put({ attended: v })));
      tr.append(el("td", i.name), up, came);
      table.append(tr);
    }
    const wrap = el("div", null);
    wrap.append(bi("h4", "邀请名单", "Invitation list"), table, error);
    return wrap;
  }

  function questions(b) {
    const list = el("ol", null, "questions");
    const named = Object.fromEntries(b.invitations.map((i) => [i.subject, i.name]));
    for (const q of b.questions) {
      const li = el("li", null);
      li.dataset.n = String(q.n);
      li.append(el("p", `${q.n}. ${q.text}`), el("p", [named[q.subject] || "", c.when(q.asked_at)].filter(Boolean).join(" · "), "meta"));
      if (q.answer) li.append(el("p", pick("答复：", "Answer: ") + q.answer, "answer"));
      // the case is opened by the analysis a moment after the question is sent to it
      if (q.case) li.append(el("p", pick(`已转工单 ${q.case.id}（${q.case.state_zh}）`, `Case ${q.case.id} (${q.case.state_en})`), "case"));
      else if (q.case_key) li.append(el("p", pick("已转工单（立案中）", "Sent as a case (being opened)"), "case"));
      if (c.manager() && !q.answer && !q.case_key) {
        const text = c.input("text", { tag: "textarea", rows: "2", maxlength: "4000" });
        const answer = c.button("答复", "Answer", "answer-question");
        const toCase = c.button("转为工单", "Make it a case", "question-case", "secondary");
        const error = c.errorLine();
        const base = `${API}/${encodeURIComponent(b.id)}/questions/${q.n}`;
        answer.addEventListener("click", () => c.busy(li, async () => {
          if (!text.value.trim()) return c.fail(error, pick("请填写答复", "Write the answer"));
          const r = await c.call("POST", base + "/answer", { text: text.value.trim() });
          if (!r.ok) return c.fail(error, r.error);
          await loadBriefings();
        }));
        toCase.addEventListener("click", () => c.busy(li, async () => {
          const r = await c.call("POST", base + "/case", {});
          if (!r.ok) return c.fail(error, r.error);
          await loadBriefings();
        }));
        li.append(c.field("答复", "Answer", text), answer, toCase, error);
      }
      list.append(li);
    }
    const wrap = el("div", null);
    wrap.append(bi("h4", `现场提问（${b.questions.length}）`, `Questions (${b.questions.length})`), list);
    return wrap;
  }

  function askForm(b) {
    const form = el("form", null, "stack ask");
    form.dataset.manage = "";
    const who = c.select("subject", [["", pick("（未知企业）", "(unknown)")], ...b.invitations.map((i) => [i.subject, i.name])]);
    const text = c.input("text", { tag: "textarea", rows: "2", maxlength: "2000" });
    const error = c.errorLine();
    form.append(bi("h4", "记录提问", "Record a question"), c.field("提问企业", "Asked by", who), c.field("问题", "Question", text), c.button("记录", "Record", "add-question"), error);
    form.addEventListener("submit", (ev) => ev.preventDefault());
    form.querySelector("button").addEventListener("click", () => c.busy(form, async () => {
      if (!text.value.trim()) return c.fail(error, pick("请填写问题", "Write the question"));
      const r = await c.call("POST", `${API}/${encodeURIComponent(b.id)}/questions`, { text: text.value.trim(), subject: who.value || null });
      if (!r.ok) return c.fail(error, r.error);
      await loadBriefings();
    }));
    return form;
  }

  $("new-briefing").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const error = f.querySelector(".error");
    error.hidden = true;
    const v = (name) => f.elements.namedItem(name).value.trim();
    c.busy(f, async () => {
      if (!v("at")) return c.fail(error, pick("请选择时间", "Choose the time"));
      const tags = v("tags").split(/[,，\s]+/).filter(Boolean);
      const body = { title: v("title"), topic: v("topic"), mode: v("mode"), at: c.zoned(v("at")), link: v("link"), place: v("place"), area: c.area(), tags };
      const r = await c.call("POST", API, body);
      if (!r.ok) return c.fail(error, r.status === 422 && /nobody to invite/.test(r.body && r.body.detail) ? pick("本区域没有符合条件的企业可邀请", "No enterprise of the area matches") : r.error);
      f.reset();
      fillForm();
      $("new-briefing-box").open = false;
      open = r.body.id;
      await loadBriefings();
    });
  });

  function fillForm() {
    const f = $("new-briefing");
    const mode = f.elements.namedItem("mode");
    mode.replaceChildren(...names.entries("meeting_modes").map(([k, n]) => Object.assign(el("option", pick(n.zh, n.en)), { value: k })));
    // 15:00 on the server's tomorrow, on the district's clock
    f.elements.namedItem("at").value = time.day(clock.now() + 86400000) + "T15:00";
  }

  // ------------------------------------------------------------------ facilitators
  // the communities at or under the chosen area (GET /api/v1/areas, read once)
  const areas = {};
  function communities() {
    const under = (code) => {
      for (let x = code; x; x = areas[x] && areas[x].parent) if (x === c.area()) return true;
      return false;
    };
    return Object.values(areas).filter((a) => a.level === "community" && under(a.code)).map((a) => [a.code, a.name]);
  }

  async function loadFacilitators() {
    if (!Object.keys(areas).length) for (const a of await c.get("/api/v1/areas")) areas[a.code] = a;
    const found = await c.get(FAC + "?area=" + encodeURIComponent(c.area()));
    $("facilitators-count").textContent = pick(`${found.facilitators} 人 · 主持会议 ${found.meetings} 场`, `${found.facilitators} · ${found.meetings} meetings run`);
    const table = $("facilitator-counts");
    const head = el("tr", null);
    head.append(bi("th", "社区", "Community"), bi("th", "促动师", "Facilitators"), bi("th", "主持会议", "Meetings run"));
    table.replaceChildren(head, ...found.communities.map((r) => {
      const tr = el("tr", null);
      tr.append(el("td", r.area.name), el("td", String(r.facilitators)), el("td", String(r.meetings)));
      return tr;
    }));
    $("facilitators").replaceChildren(...found.items.filter((f) => f.active).map((f) => {
      const li = el("li", "");
      li.dataset.username = f.user;
      const end = c.button("撤销", "Withdraw", "withdraw-facilitator", "secondary small");
      end.dataset.manage = "";
      const error = c.errorLine();
      end.addEventListener("click", () => c.busy(li, async () => {
        const r = await c.call("DELETE", FAC + "/" + encodeURIComponent(f.user));
        if (!r.ok) return c.fail(error, r.error);
        await loadFacilitators();
      }));
      li.append(el("span", `${f.name}（${f.user}）`, "who"), el("span", [f.community.name, f.note, pick(`主持 ${f.meetings} 场`, `${f.meetings} run`)].filter(Boolean).join(" · "), "meta"), end, error);
      return li;
    }));
    const box = $("facilitator-new").elements.namedItem("community");
    const kept = box.value;
    box.replaceChildren(...communities().map(([code, name]) => Object.assign(el("option", name), { value: code })));
    if (kept) box.value = kept;
  }

  $("facilitator-new").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const error = f.querySelector(".error");
    error.hidden = true;
    c.busy(f, async () => {
      const body = { user: f.elements.namedItem("user").value.trim(), community: f.elements.namedItem("community").value, note: f.elements.namedItem("note").value.trim() };
      if (!body.user) return c.fail(error, pick("请填写用户名", "Enter a username"));
      const r = await c.call("POST", FAC, body);
      if (!r.ok) return c.fail(error, r.error);
      f.elements.namedItem("user").value = "";
      f.elements.namedItem("note").value = "";
      await loadFacilitators();
    });
  });

  let filled = false;
  c.onLoad(async () => {
    if (!filled) { fillForm(); filled = true; }
    await Promise.all([loadBriefings(), loadFacilitators()]);
  });
})();
