// 业委会换届选举 (docs/elections.md): one page for both sides of an owners' election.
// The community's staff (dispatchers, admins) create an election, nominate candidates
// (an owner household of the estate, picked by its unit), start the public notice, open
// voting once it has ended, record paper and proxy ballots, close the vote and read the
// count by Civil Code art. 278 — each candidate's households and floor area agreeing,
// and why one who has a majority of one but not the other is not elected — with the
// audit trail. Leaders read. A resident bound to an owner household sees the estate's
// elections and votes once for the household.
//
// The server decides who may do what; a refusal is said in words (common.js refusal).
// Names and statements are people's words: text nodes only, never innerHTML.
"use strict";
(function () {
  const API = "/api/v1/elections";
  const $ = (id) => document.getElementById(id);
  const { api, clock, time, el, bi, names, lang } = window.cityeye;
  const pick = lang.pick;
  const state = { me: null, list: [], chosen: null, one: null, audit: [] };
  const RUNS = new Set(["dispatcher", "admin"]);
  const FIELDS = {
    title: ["请填写标题（1–200 字）。", "Title: 1–200 characters."],
    area: ["这个社区不在你的岗位范围内，或没有登记业主户。", "Area: outside your post, or no owner households there."],
    seats: ["委员名额须是 1–15 的整数。", "Seats: a whole number from 1 to 15."],
    notice_days: ["公示天数须是 1–60 的整数。", "Notice days: a whole number from 1 to 60."],
    household: ["这一户已经投过票，或不是本小区的业主户。", "This household has voted already, or is not an owner of this estate."],
    choices: ["所选候选人超过名额，或不是本次选举的候选人。", "Too many candidates chosen, or not a candidate."],
    notice_days_running: ["公示期还没有结束，不能开始投票。", "The notice period has not ended."],
    proxy: ["委托投票请填写受托人姓名。", "A proxy ballot needs the proxy holder's name."],
    candidates: ["请先提名至少一位候选人。", "Nominate at least one candidate first."],
    role: ["你没有这一步的权限。", "You may not do this."],
  };

  // common.js's call, with one sentence of this page's own: a 409 on notice_days means
  // the notice period is still running, not that the number is wrong
  async function call(method, path, body) {
    const r = await window.cityeye.call(method, path, body, FIELDS);
    if (!r.ok && r.status === 409 && r.field === "notice_days") {
      const detail = r.body && r.body.detail;
      r.error = lang.refusal(409, detail, Object.assign({}, FIELDS, { notice_days: FIELDS.notice_days_running }));
    }
    return r;
  }

  function notice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  function showError(box, text) {
    box.textContent = text || "";
    box.hidden = !text;
  }

  const runs = () => state.me && RUNS.has(state.me.role);
  const resident = () => state.me && state.me.role === "resident";
  const stateName = (s) => names.shown("election_states", s);
  const candidateName = (h) => {
    const c = state.one && state.one.candidates.find((x) => x.household === h);
    return c ? c.name : "";
  };
  const unitsOf = (h) => {
    const row = state.one && state.one.households ? state.one.households.find((x) => x.id === h) : null;
    return row ? row.units.join("、") : "";
  };

  // ------------------------------------------------------------------ the list
  function drawList() {
    $("count").textContent = "（" + state.list.length + "）";
    $("none").hidden = state.list.length > 0;
    $("elections").replaceChildren(...state.list.map((e) => {
      const li = el("li");
      const b = el("button");
      b.type = "button";
      b.append(el("span", e.title), el("span", stateName(e.state), "count"));
      b.setAttribute("aria-current", String(e.id === state.chosen));
      b.addEventListener("click", () => choose(e.id));
      li.append(b);
      return li;
    }));
  }

  async function loadList() {
    const r = await call("GET", API);
    if (!r.ok) throw Object.assign(new Error(r.error), { status: r.status });
    state.list = r.body;
    drawList();
  }

  // ------------------------------------------------------------------ one election
  async function choose(id) {
    state.chosen = id;
    const r = await call("GET", `${API}/${id}`);
    if (!r.ok) return notice(r.error);
    state.one = r.body;
    if (!resident()) {
      const a = await call("GET", `${API}/${id}/audit`);
      state.audit = a.ok ? a.body : [];
    }
    drawList();
    drawOne();
  }

  function drawOne() {
    const e = state.one;
    $("one").hidden = false;
    $("one-title").textContent = e.title;
    const buildings = e.buildings.map((b) => b.name).join("、");
    $("one-meta").textContent = pick(
      e.area_name + " · " + buildings + " · 委员名额 " + e.seats + " · 公示 " + e.notice_days + " 天",
      e.area_name + " · " + buildings + " · " + e.seats + " seats · " + e.notice_days + " days' notice",
    );
    let said = stateName(e.state);
    if (e.state === "notice" && e.notice_ends) said += pick("（公示至 " + time.minutes(e.notice_ends) + "）", " (until " + time.minutes(e.notice_ends) + ")");
    $("one-state").textContent = said;
    drawSteps();
    $("candidates").replaceChildren(...e.candidates.map((c) => {
      const li = el("li", c.name);
      if (!resident() && unitsOf(c.household)) li.append(el("span", " · " + unitsOf(c.household), "count"));
      if (c.statement) li.append(el("p", c.statement, "meta"));
      return li;
    }));
    if (!e.candidates.length) $("candidates").replaceChildren(el("li", pick("尚无候选人。", "No candidates yet."), "meta"));
    drawNominate();
    drawVote();
    drawResult();
    drawStaff();
  }

  function drawSteps() {
    const e = state.one;
    const box = $("steps");
    box.replaceChildren();
    showError($("step-error"), "");
    if (!runs()) return;
    const step = { nominating: ["notice", "开始公示", "Start the notice"], notice: ["voting", "开始投票", "Open voting"], voting: ["close", "计票并公布结果", "Count and publish"] }[e.state];
    if (!step) return;
    const b = bi("button", step[1], step[2]);
    b.type = "button";
    b.id = "step";
    b.addEventListener("click", async () => {
      if (step[0] === "close" && !confirm(pick("计票后不能再投票。确定计票并公布结果？", "No ballot is taken after the count. Count and publish?"))) return;
      b.disabled = true;
      const r = await call("POST", `${API}/${e.id}/${step[0]}`);
      if (!r.ok) {
        b.disabled = false;
        return showError($("step-error"), r.error);
      }
      await loadList();
      await choose(e.id);
    });
    box.append(b);
  }

  function drawNominate() {
    const e = state.one;
    const form = $("nominate");
    form.hidden = !(runs() && e.state === "nominating");
    if (form.hidden) return;
    const taken = new Set(e.candidates.map((c) => c.household));
    form.household.replaceChildren(...(e.households || []).filter((h) => !taken.has(h.id)).map((h) => {
      const o = el("option", h.units.join("、") + "（" + h.area_m2 + " m²）");
      o.value = h.id;
      return o;
    }));
  }

  function drawVote() {
    const e = state.one;
    const form = $("vote");
    const voted = $("voted");
    voted.hidden = true;
    const mineDone = resident() && e.my_ballot;
    form.hidden = e.state !== "voting" || !(runs() || (resident() && e.my_household && !mineDone));
    if (mineDone) {
      voted.hidden = false;
      voted.textContent = pick("您家已投票（" + names.zh("ballot_channels", e.my_ballot.channel) + "，" + time.minutes(e.my_ballot.cast_at) + "）。每户只能投一票。",
        "Your household has voted (" + names.en("ballot_channels", e.my_ballot.channel) + ", " + time.minutes(e.my_ballot.cast_at) + "). One ballot per household.");
    } else if (resident() && e.state === "voting" && !e.my_household) {
      voted.hidden = false;
      voted.textContent = pick("您的账号还没有绑定业主户，请到社区登记房产后再投票。", "Your account is not bound to an owner household yet: register your home with the community.");
    }
    if (form.hidden) return;
    $("vote-hint").textContent = pick("同意谁就勾选谁，最多 " + e.seats + " 位；都不勾选也算参与表决。", "Tick whom you agree to, at most " + e.seats + "; ticking none still counts as taking part.");
    $("vote-choices").replaceChildren(...e.candidates.map((c) => {
      const label = el("label");
      const box = el("input");
      box.type = "checkbox";
      box.name = "choice";
      box.value = c.household;
      label.append(box, document.createTextNode(c.name));
      return label;
    }));
    $("vote-staff").hidden = !runs();
    if (runs()) {
      form.household.replaceChildren(...(e.households || []).filter((h) => !h.voted).map((h) => {
        const o = el("option", h.units.join("、") + "（" + h.area_m2 + " m²）");
        o.value = h.id;
        return o;
      }));
    }
  }

  function yes(ok) {
    return el("span", ok ? "✓" : "✗", ok ? "pass" : "fail");
  }

  function drawResult() {
    const e = state.one;
    $("result").hidden = !e.result;
    if (!e.result) return;
    const r = e.result;
    const turnoutOk = r.turnout_households && r.turnout_area;
    $("turnout").replaceChildren(
      document.createTextNode(pick(
        "参与表决：" + r.voted.households + " / " + r.eligible.households + " 户，面积 " + r.voted.area_m2 + " / " + r.eligible.area_m2 + " m²（均须达三分之二以上）",
        "Took part: " + r.voted.households + " of " + r.eligible.households + " households, " + r.voted.area_m2 + " of " + r.eligible.area_m2 + " m² (each at least 2/3) ",
      )),
      yes(turnoutOk),
    );
    $("result-table").tBodies[0].replaceChildren(...r.candidates.map((c) => {
      const tr = el("tr");
      const heads = el("td", c.agreed.households + " / " + r.voted.households + " ");
      heads.append(yes(c.consent_households));
      const area = el("td", c.agreed.area_m2 + " / " + r.voted.area_m2 + " m² ");
      area.append(yes(c.consent_area));
      const outcome = c.elected ? pick("当选", "Elected") : c.tied ? pick("与他人同票争最后名额，须另行表决", "Tied for the last seat: a further vote decides") : c.passed ? pick("达到票数，名额已满", "Passed; the seats are full") : pick("未当选：", "Not elected: ") + (c.why_not ? pick(c.why_not.split(" · ")[0], c.why_not.split(" · ")[1]) : "");
      tr.append(el("td", c.name), heads, area, el("td", outcome, c.elected ? "pass" : "fail"));
      tr.dataset.household = c.household;
      return tr;
    }));
  }

  function drawStaff() {
    const e = state.one;
    $("staff-only").hidden = resident();
    if (resident()) return;
    const rows = e.households || [];
    $("households-count").textContent = pick("（" + rows.filter((h) => h.voted).length + " / " + rows.length + " 户已投票）", "(" + rows.filter((h) => h.voted).length + " of " + rows.length + " voted)");
    const ballots = new Map((e.ballots || []).map((b) => [b.household, b]));
    $("households").tBodies[0].replaceChildren(...rows.map((h) => {
      const tr = el("tr");
      const b = ballots.get(h.id);
      const how = b ? names.shown("ballot_channels", b.channel) + (b.proxy ? pick("（受托人 " + b.proxy + "）", " (proxy " + b.proxy + ")") : "") + " · " + b.cast_by : pick("未投票", "not voted");
      tr.append(el("td", h.units.join("、")), el("td", h.area_m2 + " m²"), el("td", how));
      return tr;
    }));
    $("bind").hidden = !runs();
    $("bind").household.replaceChildren(...rows.map((h) => {
      const o = el("option", h.units.join("、") + "（" + h.area_m2 + " m²）");
      o.value = h.id;
      return o;
    }));
    $("audit").replaceChildren(...state.audit.map((a) => {
      const who = a.household ? " · " + (unitsOf(a.household) || "") : "";
      return el("li", time.minutes(a.at) + " · " + a.actor + " · " + names.shown("election_audit", a.action) + who);
    }));
  }

  // ------------------------------------------------------------------ forms
  $("new-election").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    for (const p of f.querySelectorAll(".error")) showError(p, "");
    const body = { title: f.title.value.trim(), area: f.area.value, seats: Number(f.seats.value), notice_days: Number(f.notice_days.value) };
    const r = await call("POST", API, body);
    if (!r.ok) {
      const field = Object.keys(FIELDS).find((k) => r.error === pick(FIELDS[k][0], FIELDS[k][1])) || "";
      return showError(f.querySelector(`.error[data-for="${field}"]`) || f.querySelector('.error[data-for=""]'), r.error);
    }
    f.title.value = "";
    $("new-box").open = false;
    await loadList();
    await choose(r.body.id);
  });

  $("nominate").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const r = await call("POST", `${API}/${state.one.id}/candidates`, { household: f.household.value, name: f.name.value.trim() });
    if (!r.ok) return showError(f.querySelector(".error"), r.error);
    showError(f.querySelector(".error"), "");
    f.name.value = "";
    await choose(state.one.id);
  });

  $("vote").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const choices = [...f.querySelectorAll("input[name=choice]:checked")].map((x) => x.value);
    const body = { choices };
    if (runs()) {
      body.household = f.household.value;
      body.channel = f.channel.value;
      if (body.channel === "proxy") body.proxy = f.proxy.value.trim();
    }
    const r = await call("POST", `${API}/${state.one.id}/ballots`, body);
    if (!r.ok) return showError(f.querySelector(":scope > .error"), r.error);
    showError(f.querySelector(":scope > .error"), "");
    f.proxy.value = "";
    await choose(state.one.id);
  });

  $("bind").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    $("bound").hidden = true;
    const username = f.username.value.trim();
    const r = await call("POST", `/api/v1/households/${encodeURIComponent(f.household.value)}/residents`, { username });
    if (!r.ok) return showError(f.querySelector(".error"), r.status === 422 ? pick("没有这个居民账号。", "No such resident's account.") : r.error);
    showError(f.querySelector(".error"), "");
    const unit = f.household.selectedOptions[0].textContent;
    $("bound").textContent = pick("已绑定：" + username + " → " + unit, "Bound: " + username + " → " + unit);
    $("bound").hidden = false;
    f.username.value = "";
  });

  lang.onChange(() => {
    if (state.list.length) drawList();
    if (state.one) drawOne();
  });

  $("logout").addEventListener("click", async (ev) => {
    ev.preventDefault();
    await api("/api/v1/auth/logout", { method: "POST" });
    location.assign("/login?next=/elections");
  });

  (async function start() {
    const [me] = await Promise.all([api("/api/v1/auth/me").then((r) => r.json()), names.load(), clock.ready]);
    state.me = me;
    $("who").textContent = me.display_name;
    try {
      await loadList();
    } catch (e) {
      if (e.status === 403) {
        notice(pick("业委会选举由社区组织：本页供社区和街道的工作人员，以及已登记房产的业主使用。", "Owners' elections are run by the community: this page is for its staff and for registered owners."));
        return;
      }
      throw e;
    }
    $("work").hidden = false;
    if (resident() && !state.list.length) {
      notice(pick("您的账号还没有绑定业主户，或您家所在小区暂无选举。业主请带房产证明到社区登记，绑定后即可为本户投票。",
        "Your account is not bound to an owner household yet, or your estate has no election. Owners: register your home with the community to vote for your household."));
    }
    if (runs()) {
      const areas = await call("GET", "/api/v1/areas");
      const mine = new Set(me.areas);
      const communities = (areas.ok ? areas.body : []).filter((a) => a.level === "community");
      const options = communities.filter((a) => me.role === "admin" || mine.has(a.code) || mine.has(a.parent));
      $("new-election").area.replaceChildren(...(options.length ? options : communities).map((a) => {
        const o = el("option", a.name);
        o.value = a.code;
        return o;
      }));
      $("new-box").hidden = false;
    }
    for (const e of document.querySelectorAll("[data-run]")) if (e.id !== "new-box" && !runs()) e.hidden = true;
    // what needs the person now: a vote running, else the newest result, else the newest
    const first = state.list.find((e) => e.state === "voting") || state.list.find((e) => e.state === "published") || state.list[0];
    if (first) await choose(first.id);
  })().catch((e) => notice(pick("加载失败：", "Could not load: ") + e.message));
})();
