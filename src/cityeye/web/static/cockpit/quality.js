// 误报率 in the cockpit (issue 20, alarm quality): for the area and period on screen,
// how each scenario's alarms ended — found false on site (误报) against those judged
// (误报 + 属实) — and the devices with the most false alarms, a 需检修 badge on those the
// maintenance rule flags (ours: ≥ 5 false alarms and ≥ 80 % of the judged ones false in
// 30 days; docs/quality.md). From GET /api/v1/quality/scenarios and /devices.
// cockpit.js says what is on screen with one event, "cockpit:view" ({area, first, last});
// this file keeps no other tie to it. Names only — a scenario's, a device kind's, an
// area's — never an id or a code on the page.
// Below them, 电梯安全 (issue 20): what the lifts counted and nobody was sent to —
// 阻止电动车上楼, 劝阻不文明乘梯, 电梯故障预警, seed 000's three figures — and the building
// with the most, from GET /api/v1/detections.
(function () {
  const { api, el, bi } = window.cityeye;
  const REFRESH_MS = 60000; // dispositions move slowly
  const SCENARIOS = 6;
  const DEVICES = 5;
  let view = null;
  let gen = 0;
  let timer = null;

  const pct = (r) => (r === null || r === undefined ? "—" : (r * 100).toFixed(1) + "%");
  const en = () => document.documentElement.lang === "en" || document.documentElement.dataset.lang === "en";

  function panel() {
    const p = document.getElementById("quality");
    if (!p || p.dataset.built) return p;
    p.dataset.built = "1";
    const head = el("div", null, "panel-head");
    const title = bi("h2", "误报率", "False alarms");
    title.id = "quality-title";
    head.append(title, bi("span", "误报 / 已核实", "false / judged", "count"));
    const body = el("div", null, "quality-body");
    body.tabIndex = 0;
    body.setAttribute("role", "region");
    body.setAttribute("aria-labelledby", "quality-title");
    const s = el("ol", null, "qlist");
    s.id = "quality-scenarios";
    const d = el("ol", null, "qlist");
    d.id = "quality-devices";
    const lifts = el("ol", null, "qlist");
    lifts.id = "quality-lifts";
    body.append(bi("h3", "分场景", "By scenario"), s, bi("h3", "误报最多的设备", "Noisiest devices"), d);
    body.append(bi("h3", "电梯安全（只计数）", "Lifts (counted)"), lifts);
    p.append(head, body);
    return p;
  }

  function empty(list, zh, enText) {
    list.append(bi("li", zh, enText, "empty"));
  }

  function drawScenarios(body) {
    const list = document.getElementById("quality-scenarios");
    list.replaceChildren();
    const rows = (body ? body.rows : []).filter((r) => r.false + r.real > 0);
    rows.sort((a, b) => (b.false_share ?? 0) - (a.false_share ?? 0) || b.false - a.false);
    if (!rows.length) return empty(list, "期内暂无已核实的报警", "No judged alarms in the period");
    for (const r of rows.slice(0, SCENARIOS)) {
      const li = el("li", null, "qrow");
      const bar = el("span", null, "qbar");
      const fill = el("i");
      fill.style.width = Math.round((r.false_share ?? 0) * 100) + "%";
      bar.append(fill);
      // the short name, as the 分场景 chart shows it (场所安全用电·过载与漏电 → 过载与漏电);
      // the whole one in the hover
      li.append(bi("span", r.name.split("·").pop(), r.name_en, "qname"), bar, el("b", pct(r.false_share)));
      li.append(bi("span", `误报 ${r.false} / 已核 ${r.false + r.real}`, `${r.false} of ${r.false + r.real}`, "qn"));
      li.title = en()
        ? `${r.name_en}: ${r.alarms} alarms, ${r.false} found false, ${r.real} real, ${r.open} open`
        : `${r.name}：报警 ${r.alarms} 起，误报 ${r.false}，属实 ${r.real}，未结 ${r.open}`;
      list.append(li);
    }
  }

  function drawDevices(body) {
    const list = document.getElementById("quality-devices");
    list.replaceChildren();
    const rows = (body ? body.rows : []).filter((r) => r.false > 0);
    if (!rows.length) return empty(list, "期内没有误报的设备", "No device raised a false alarm");
    for (const r of rows.slice(0, DEVICES)) {
      const li = el("li", null, "qrow two"); // the device and its place, then its figures
      const where = [r.area_name, r.place].filter(Boolean).join(" · ");
      li.append(bi("span", `${r.kind_name} · ${where}`, `${r.kind_name_en} · ${where}`, "qname"));
      li.append(bi("b", `${r.false} 次`, `${r.false}×`));
      li.append(bi("span", `误报占 ${pct(r.false_share)}`, `${pct(r.false_share)} false`, "qn"));
      if (r.noisy) li.append(bi("span", "需检修", "needs repair", "badge"));
      li.title = en()
        ? `${r.scenarios.join(", ")}: ${r.alarms} alarms, ${r.false} false, ${r.real} real`
        : `${r.scenarios.join("、")}：报警 ${r.alarms} 起，误报 ${r.false}，属实 ${r.real}`;
      list.append(li);
    }
  }

  function drawLifts(body) {
    const list = document.getElementById("quality-lifts");
    list.replaceChildren();
    if (!body) return empty(list, "暂无电梯数据", "No lift data");
    for (const k of body.kinds) {
      const li = el("li", null, "qrow");
      li.append(bi("span", k.name_zh, k.name_en, "qname"), bi("b", `${body.totals[k.kind] || 0} 次`, `${body.totals[k.kind] || 0}×`));
      list.append(li);
    }
    const top = body.groups.find((g) => g.total > 0);
    if (top) {
      const li = el("li", null, "qrow");
      li.append(bi("span", `最多：${top.name}`, `Most: ${top.name}`, "qname"), bi("b", `${top.total} 次`, `${top.total}×`));
      list.append(li);
    }
  }

  async function get(path, extra = {}) {
    const q = new URLSearchParams();
    for (const k of ["area", "first", "last"]) if (view[k]) q.set(k, view[k]);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    const r = await api(path + "?" + q.toString());
    return r.ok ? r.json() : null;
  }

  async function load() {
    clearTimeout(timer);
    if (!view || !panel()) return;
    const mine = ++gen;
    try {
      const [s, d, l] = await Promise.all([
        get("/api/v1/quality/scenarios"),
        get("/api/v1/quality/devices"),
        get("/api/v1/detections", { by: "building" }),
      ]);
      if (mine !== gen) return;
      drawScenarios(s);
      drawDevices(d);
      drawLifts(l);
    } catch (e) {
      if (mine === gen) {
        drawScenarios(null);
        drawDevices(null);
        drawLifts(null);
      }
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  document.addEventListener("cockpit:view", (ev) => {
    view = ev.detail;
    load();
  });
  window.cityeye.lang.onChange(() => view && load());
})();
