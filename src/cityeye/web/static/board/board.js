// 数字治理赛晾晒台 · the contest's ranking board (GET /api/v1/assessment/board for
// signed-in staff, their areas' units; GET /api/v1/public/board for everyone else,
// units only). One round at a time (a month, a quarter, a year), streets or
// communities (parties for staff): a bar chart of the scores coloured by status, and a
// table of rank, score, movement and each KPI term; a row opens its breakdown (value,
// target, weight, points; deductions). Chinese first; the 中/EN button redraws.
// When the round in view has a published result (月考核, frozen at publication:
// /api/v1/assessment/results/{period}, public /api/v1/public/results/{period}), a line
// says when it was published; staff download its document (PDF, Excel) there, and a
// dispatcher, leader or admin their area's 周通报 and 月报 (/api/v1/reports/{period}).
"use strict";
(function () {
  const { request, el, lang, names, clock, time } = window.cityeye;
  const pick = lang.pick;
  const $ = (id) => document.getElementById(id);

  // the colours' names come from /api/v1/meta (standings), as the documents print them
  const STATUSES = ["green", "yellow", "red", "none"]; // the legend's order
  const COLOURS = { green: "#2ecc71", yellow: "#f5b041", red: "#e74c3c", none: "#7f8c8d" };
  const KINDS = { month: 12, quarter: 8, year: 5 }; // how many rounds the picker offers

  const state = { staff: false, me: null, published: null, level: "street", kind: "month", period: "", area: "", data: null, streets: [], open: new Set() };
  let chart = null;
  let trendChart = null;
  const TREND_LINES = 10; // more units than this: the five first and five last of the round

  // ------------------------------------------------------------------ rounds
  // the rounds of `kind` up to the one holding the day `last` ("2026-10-31"), newest first
  function rounds(kind, last) {
    const [y, m] = last.split("-").map(Number);
    const out = [];
    for (let i = 0; i < KINDS[kind]; i++) {
      if (kind === "month") {
        const d = new Date(Date.UTC(y, m - 1 - i, 1));
        out.push(d.toISOString().slice(0, 7));
      } else if (kind === "quarter") {
        const q = Math.floor((m - 1) / 3) - i;
        const year = y + Math.floor(q / 4);
        out.push(year + "-Q" + (((q % 4) + 4) % 4 + 1));
      } else {
        out.push(String(y - i));
      }
    }
    return out;
  }

  function roundName(label) {
    const [y, rest] = label.split("-");
    if (!rest) return pick(y + " 年", y);
    if (rest.startsWith("Q")) return pick(y + " 年第 " + rest.slice(1) + " 季度", label);
    return pick(y + " 年 " + Number(rest) + " 月", label);
  }

  function fillRounds(last) {
    const select = $("period");
    const labels = rounds(state.kind, last);
    select.replaceChildren(...labels.map((l) => {
      const o = el("option", roundName(l));
      o.value = l;
      return o;
    }));
    select.value = state.period && labels.includes(state.period) ? state.period : labels[0];
    state.period = select.value;
  }

  // ------------------------------------------------------------------ data
  async function load() {
    const params = new URLSearchParams({ level: state.level });
    if (state.period) params.set("period", state.period);
    if (state.area) params.set("area", state.area);
    const path = (state.staff ? "/api/v1/assessment/board?" : "/api/v1/public/board?") + params;
    let r;
    try {
      r = await request(path);
    } catch (e) {
      return notice(pick("连接不上服务器，请稍后再试。", "The server cannot be reached; try again shortly."));
    }
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      return notice(lang.refusal(r.status, body.detail));
    }
    notice("");
    state.data = await r.json();
    if (!state.period) {
      state.period = state.data.period.label;
      state.kind = state.data.period.kind;
      $("kind").value = state.kind;
    }
    fillRounds(state.data.period.last);
    if (state.level === "street") state.streets = state.data.rows.map((row) => [row.unit, row.name]);
    draw();
    loadTrend(params);
    loadPublished(state.data);
  }

  // ------------------------------------------------------------------ 月考核
  // whether the round in view has a published result (404: not yet), and when
  async function loadPublished(data) {
    const path = (state.staff ? "/api/v1/assessment/results/" : "/api/v1/public/results/") +
      encodeURIComponent(data.period.label) + "?" + new URLSearchParams({ level: data.level });
    let found = null;
    try {
      const r = await request(path);
      if (r.ok) found = await r.json();
      await clock.ready; // the district's time zone, for the time it was published
    } catch (e) {
      // offline: say nothing of a result
    }
    if (state.data !== data) return; // another round is in view by now
    state.published = found ? { label: data.period.label, level: data.level, at: found.published_at } : null;
    drawDocs();
  }

  // the ISO week (2026-W44) of a day ("2026-10-31"): the week's Thursday's year
  function isoWeek(day) {
    const [y, m, d] = day.split("-").map(Number);
    const t = new Date(Date.UTC(y, m - 1, d));
    t.setUTCDate(t.getUTCDate() - ((t.getUTCDay() + 6) % 7) + 3);
    const jan4 = new Date(Date.UTC(t.getUTCFullYear(), 0, 4));
    const week = 1 + Math.round(((t - jan4) / 86400000 - 3 + ((jan4.getUTCDay() + 6) % 7)) / 7);
    return t.getUTCFullYear() + "-W" + String(week).padStart(2, "0");
  }

  function fileLink(href, text, kind) {
    const a = el("a", text, "file");
    a.href = href;
    a.setAttribute("download", "");
    a.dataset.file = kind; // what it is (tests click it)
    return a;
  }

  function drawDocs() {
    const data = state.data;
    const done = state.published;
    const shown = done && data && done.label === data.period.label && done.level === data.level;
    const when = shown ? time.day(done.at) + " " + time.hm(done.at) : "";
    $("published").textContent = shown ? pick("已发布 " + when, "Published " + when) : "";
    $("published").hidden = !shown;
    const files = $("result-files");
    files.hidden = !(shown && state.staff);
    if (shown && state.staff) {
      const base = "/api/v1/assessment/results/" + encodeURIComponent(done.label) + "?level=" + done.level + "&format=";
      files.replaceChildren(
        el("span", pick("考核结果：", "Result: "), "muted"),
        fileLink(base + "pdf", "PDF", "result-pdf"),
        fileLink(base + "xlsx", pick("表格", "Excel"), "result-xlsx"),
      );
    }
    // an area's bulletin of the latest week of the round in view, and its month's report
    const me = state.me;
    const reports = $("report-files");
    const mayReport = me && data && (me.role === "admin" || ((me.role === "dispatcher" || me.role === "leader") && me.areas.length > 0));
    reports.hidden = !mayReport;
    if (mayReport) {
      const today = time.day();
      const day = today < data.period.last ? today : data.period.last;
      const week = isoWeek(day);
      const month = day.slice(0, 7);
      const [wy, wn] = week.split("-W");
      reports.replaceChildren(
        el("span", pick("本辖区：", "My area: "), "muted"),
        fileLink("/api/v1/reports/" + week + "?format=pdf", pick(wy + " 年第 " + Number(wn) + " 周周通报", "Bulletin " + week), "week"),
        fileLink("/api/v1/reports/" + month + "?format=pdf", pick(roundName(month) + "月报", "Report " + month), "month"),
      );
    }
    $("docs").hidden = files.hidden && reports.hidden && $("published").hidden;
  }

  // each unit's score over the last six rounds (the same scope and period)
  async function loadTrend(params) {
    params.set("period", state.data.period.label);
    const path = (state.staff ? "/api/v1/assessment/trend?" : "/api/v1/public/trend?") + params;
    try {
      const r = await request(path);
      state.trend = r.ok ? await r.json() : null;
    } catch (e) {
      state.trend = null;
    }
    drawTrend();
  }

  async function drawTrend() {
    const data = state.trend;
    const box = $("trend");
    if (!window.echarts || !data) return;
    // the units of the round in view, by rank: all of them, or the five first and last
    const ranked = state.data.rows.filter((r) => r.rank != null).map((r) => r.unit);
    const picked = ranked.length > TREND_LINES ? [...ranked.slice(0, TREND_LINES / 2), ...ranked.slice(-TREND_LINES / 2)] : ranked;
    const units = picked.map((code) => data.units.find((u) => u.unit === code)).filter(Boolean);
    const size = Math.max(13, Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.9));
    try {
      await document.fonts.load(size + "px cityeye-sans", units.map((u) => u.name).join("") + "0123456789年月季度");
    } catch (e) {
      // offline without the font: the system's
    }
    if (!trendChart) trendChart = echarts.init(box);
    const text = getComputedStyle(document.body).getPropertyValue("--ink").trim() || "#e6eef7";
    trendChart.setOption({
      animation: false,
      textStyle: { fontFamily: "cityeye-sans, system-ui, sans-serif", fontSize: size },
      legend: { type: "scroll", top: 0, textStyle: { color: text, fontSize: size }, pageTextStyle: { color: text } },
      grid: { left: 8, right: 24, top: size * 3, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.periods.map((p) => roundName(p.label)), axisLabel: { color: text, fontSize: size } },
      yAxis: { type: "value", max: state.data.contest.full_marks, axisLabel: { color: text, fontSize: size }, splitLine: { lineStyle: { color: "#24405e" } } },
      tooltip: { trigger: "axis" },
      series: units.map((u) => ({ type: "line", name: u.name, data: u.scores, connectNulls: false, symbolSize: 8 })),
    }, true);
    box.dataset.drawn = state.data.level + " " + data.periods.length;
  }

  function notice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  // ------------------------------------------------------------------ drawing
  const pct = (v) => (v == null ? "—" : (v * 100).toFixed(1).replace(/\.0$/, "") + "%");
  const num = (v) => (Math.round(v * 100) / 100).toString();

  function kpiName(k) {
    return pick(k.name, k.name_en);
  }

  function drawRules(contest) {
    const terms = contest.kpis.map((k) => kpiName(k) + (k.at_least ? " ≥ " : " ≤ ") + pct(k.target) + pick("（" + k.weight + " 分）", " (" + k.weight + " pts)"));
    const off = contest.deductions.map((d) => pick(d.name + "每件扣 " + d.points + " 分" + (d.max ? "，最多 " + d.max + " 分" : ""), d.name_en + " −" + d.points + " each" + (d.max ? ", at most " + d.max : "")));
    $("rules").replaceChildren(
      el("b", pick(contest.name, contest.name_en) + pick("：", ": ")),
      el("span", terms.join(pick("；", "; "))),
      off.length ? el("span", pick("。扣分：", ". Deductions: ") + off.join(pick("；", "; "))) : "",
    );
  }

  function movement(row) {
    const m = row.movement;
    if (!m || m.rank_change == null) return el("span", "—", "move");
    if (m.rank_change > 0) return el("span", "↑" + m.rank_change, "move up");
    if (m.rank_change < 0) return el("span", "↓" + -m.rank_change, "move down");
    return el("span", "=", "move");
  }

  function moveTitle(row) {
    const m = row.movement;
    if (!m) return pick("上期未排名", "Not ranked in the previous round");
    return pick("上期第 " + m.rank + " 名，" + num(m.score) + " 分", "Previous round: #" + m.rank + ", " + num(m.score));
  }

  function status(s) {
    const b = el("span", pick(names.zh("standings", s), names.en("standings", s)), "status " + s);
    return b;
  }

  function drawTable(data) {
    const kpis = data.contest.kpis;
    const head = el("tr");
    const th = (zh, en, cls) => {
      const c = el("th", pick(zh, en), cls);
      c.scope = "col";
      return c;
    };
    head.append(th("排名", "Rank"), th("单位", "Unit"), th("得分", "Score"), th("较上期", "Change"), th("状态", "Status"));
    for (const k of kpis) head.append(th(kpiName(k), kpiName(k), "kpi-col"));
    head.append(th("扣分", "Deducted", "kpi-col"));
    $("table").tHead.replaceChildren(head);
    const body = [];
    for (const row of data.rows) {
      const tr = el("tr", null, "unit-row");
      tr.dataset.unit = row.unit;
      // the unit's name is the row's button (keyboard, screen readers): it opens the
      // breakdown; a click anywhere on the row does the same (the click bubbles here)
      const open = el("button", row.name, "unit-open");
      open.type = "button";
      open.setAttribute("aria-expanded", state.open.has(row.unit) ? "true" : "false");
      const name = el("td", null, "name");
      name.append(open);
      const moved = el("td", null);
      moved.append(movement(row));
      moved.title = moveTitle(row);
      const st = el("td");
      st.append(status(row.status));
      tr.append(
        el("td", row.rank == null ? "—" : String(row.rank), "rank"),
        name,
        el("td", row.rank == null ? "—" : num(row.score), "score"), // no case: no score to compare
        moved,
        st,
      );
      for (const t of row.terms) {
        const c = el("td", pct(t.value), "kpi-col term " + t.status);
        c.title = pick(num(t.points) + " / " + t.weight + " 分", num(t.points) + " / " + t.weight + " pts");
        tr.append(c);
      }
      const off = row.deductions.reduce((a, d) => a + d.points, 0);
      tr.append(el("td", off ? num(off) : "0", "kpi-col"));
      tr.addEventListener("click", () => toggle(row.unit));
      body.push(tr);
      if (state.open.has(row.unit)) body.push(detail(row, data.contest, 5 + kpis.length + 1));
    }
    if (!data.rows.length) {
      const tr = el("tr");
      const td = el("td", pick("这一时段没有可显示的单位。", "No unit to show for this round."), "muted");
      td.colSpan = 6 + kpis.length;
      tr.append(td);
      body.push(tr);
    }
    $("table").tBodies[0].replaceChildren(...body);
    $("legend").replaceChildren(
      ...STATUSES.map((s) => status(s)),
      el("span", pick(
        "黄色：低于目标不超过 " + pct(data.contest.yellow_within) + "。点一行看得分明细。",
        "Yellow: under target by at most " + pct(data.contest.yellow_within) + ". Click a row for its points.",
      ), "muted"),
    );
  }

  function detail(row, contest, span) {
    const tr = el("tr", null, "detail");
    const td = el("td");
    td.colSpan = span;
    const list = el("ul", null, "terms");
    contest.kpis.forEach((k, i) => {
      const t = row.terms[i];
      const li = el("li", null, "term " + t.status);
      li.append(
        el("b", kpiName(k)),
        el("span", pick(
          " " + pct(t.value) + "（目标 " + (t.at_least ? "≥ " : "≤ ") + pct(t.target) + "），权重 " + t.weight + "，得 " + num(t.points) + " 分",
          " " + pct(t.value) + " (target " + (t.at_least ? "≥ " : "≤ ") + pct(t.target) + "), weight " + t.weight + ": " + num(t.points) + " pts",
        )),
      );
      list.append(li);
    });
    const items = [...row.deductions.map((d, i) => [d, contest.deductions[i]]), ...row.bonus.map((b, i) => [b, contest.bonus[i]])];
    for (const [item, rule] of items) {
      const li = el("li", null, "item");
      li.append(
        el("b", pick(rule.name, rule.name_en)),
        el("span", pick(
          " " + item.n + " 件 × " + item.per + (item.max ? "（最多 " + item.max + "）" : "") + " = " + num(item.points) + " 分",
          " " + item.n + " × " + item.per + (item.max ? " (at most " + item.max + ")" : "") + " = " + num(item.points),
        )),
      );
      list.append(li);
    }
    const c = row.counts;
    const facts = el("p", pick(
      "本期立案 " + c.opened + " 件，应办 " + c.due + " 件，结案 " + c.closed + " 件，超期 " + c.overdue + " 件。",
      "Opened " + c.opened + ", due " + c.due + ", closed " + c.closed + ", overdue " + c.overdue + ".",
    ), "muted");
    td.append(list, facts);
    tr.append(td);
    return tr;
  }

  function toggle(unit) {
    if (state.open.has(unit)) state.open.delete(unit);
    else state.open.add(unit);
    drawTable(state.data);
    const again = document.querySelector(`#table tr[data-unit="${CSS.escape(unit)}"] .unit-open`);
    if (again) again.focus(); // the table was redrawn: keep the keyboard where it was
  }

  // the width of a text in the page's font (the chart's name column: ECharts' own
  // containLabel cuts Chinese names short)
  const ruler = document.createElement("canvas").getContext("2d");
  function measure(text, px) {
    ruler.font = px + "px cityeye-sans, system-ui, sans-serif";
    return ruler.measureText(text).width;
  }

  async function drawChart(data) {
    if (!window.echarts) return;
    const rows = data.rows.filter((r) => r.rank != null);
    const labels = rows.map((r) => r.rank + ". " + r.name);
    const size = Math.max(13, Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.9));
    // the canvas draws its own text: the bundled CJK font's parts for these names
    // first (it is split by characters and fetched as needed), or a name shows boxes
    try {
      await document.fonts.load(size + "px cityeye-sans", labels.join("") + "0123456789.");
    } catch (e) {
      // offline without the font: the system's
    }
    const box = $("chart");
    const wide = window.innerWidth >= 1200;
    box.style.height = Math.max(240, rows.length * (wide ? 40 : 30) + 60) + "px";
    if (!chart) chart = echarts.init(box);
    else chart.resize();
    const text = getComputedStyle(document.body).getPropertyValue("--ink").trim() || "#e6eef7";
    const w = Math.ceil(Math.min(box.clientWidth * 0.45, Math.max(size * 3, ...labels.map((l) => measure(l, size) * 1.05))));
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "cityeye-sans, system-ui, sans-serif", fontSize: size },
      grid: { left: w + 12, right: size * 3, top: 8, bottom: size * 2, containLabel: false },
      xAxis: { type: "value", max: data.contest.full_marks, axisLabel: { color: text, fontSize: size }, splitLine: { lineStyle: { color: "#24405e" } } },
      yAxis: {
        type: "category",
        inverse: true,
        data: labels,
        axisLabel: { color: text, fontSize: size, interval: 0, width: w, overflow: "truncate" },
      },
      series: [{
        type: "bar",
        barMaxWidth: 28,
        data: rows.map((r) => ({ value: r.score, itemStyle: { color: COLOURS[r.status] } })),
        label: { show: true, position: "right", color: text, fontSize: size, formatter: (p) => num(p.value) },
      }],
      tooltip: { trigger: "item", formatter: (p) => rows[p.dataIndex].name + " " + num(p.value) + pick(" 分", "") },
    }, true);
    box.dataset.drawn = data.level + " " + data.period.label; // what it shows (tests wait on it)
  }

  function drawLevels(contest) {
    const levels = contest.ranks.filter((l) => state.staff || l !== "party");
    // a level's name is the area level's (/api/v1/meta); parties are the one other
    const levelName = (l) => (l === "party" ? pick("处置主体", "Parties") : names.shown("area_levels", l));
    $("levels").replaceChildren(...levels.map((l) => {
      const b = el("button", levelName(l));
      b.type = "button";
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", l === state.level ? "true" : "false");
      b.addEventListener("click", () => {
        state.level = l;
        state.open.clear();
        if (l !== "community") state.area = "";
        load();
      });
      return b;
    }));
    const area = $("area");
    area.hidden = state.level !== "community" || state.streets.length < 1;
    const all = el("option", state.staff && state.streets.length === 1 ? pick("与全区社区比", "Among the district") : pick("全区", "Whole district"));
    all.value = "";
    area.replaceChildren(all, ...state.streets.map(([code, name]) => {
      const o = el("option", name);
      o.value = code;
      return o;
    }));
    area.value = state.area;
  }

  function draw() {
    const data = state.data;
    if (!data) return;
    drawLevels(data.contest);
    drawRules(data.contest);
    const where = data.area_name + " · " + roundName(data.period.label);
    $("view").textContent = where + " · " + (state.staff ? pick("工作人员版", "staff view") : pick("公众版", "public view"));
    drawTable(data);
    drawChart(data);
    drawDocs();
  }

  // ------------------------------------------------------------------ wiring
  $("kind").addEventListener("change", () => {
    state.kind = $("kind").value;
    const last = state.data ? state.data.period.last : new Date().toISOString().slice(0, 10);
    state.period = "";
    fillRounds(last);
    load();
  });
  $("period").addEventListener("change", () => {
    state.period = $("period").value;
    load();
  });
  $("area").addEventListener("change", () => {
    state.area = $("area").value;
    load();
  });
  $("logout").addEventListener("click", async (ev) => {
    ev.preventDefault();
    await request("/api/v1/auth/logout", { method: "POST" });
    location.assign("/board"); // signed out: the public board
  });
  lang.onChange(() => {
    draw();
    drawTrend();
  });
  window.addEventListener("resize", () => {
    if (chart) chart.resize();
    if (trendChart) trendChart.resize();
  });

  async function start() {
    try {
      const r = await request("/api/v1/auth/me");
      if (r.ok) {
        const me = await r.json();
        state.staff = me.role !== "resident";
        state.me = state.staff ? me : null;
        $("who").textContent = me.display_name;
        $("who").hidden = $("logout").hidden = false;
      }
    } catch (e) {
      // offline or signed out: the public board
    }
    $("signin").hidden = state.staff;
    await names.load();
    await load(); // streets first: their rows give the community picker its streets
  }
  start();
})();
