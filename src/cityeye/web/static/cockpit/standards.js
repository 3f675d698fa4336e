// 响应标准达标率 in the cockpit (issue 19 item 4): for the area and period on screen,
// each response standard's rates — "1 分钟响应率", "5 分钟到达率", "现场处结率" —
// from GET /api/v1/standards/attainment, as a group of figures in the strip under the
// KPI tiles. cockpit.js says what is on screen with one event, "cockpit:view"
// ({area, first, last}, fired by its reload()); this file keeps no other tie to it.
// A figure's hover gives its count (达标 of 应计, and the cases still pending); a rate
// with nothing counted is a dash, never 100 %. On a one-line strip a figure that does
// not fit whole is left out, as the suggestion chips are (screen.js), and the heading's
// hover gives every rate.
(function () {
  const { api, el, bi } = window.cityeye;
  const REFRESH_MS = 60000; // the rates move slowly; the KPI tiles refresh faster
  let view = null;
  let gen = 0;
  let timer = null;

  // the group sits in the strip under the tiles, before its suggestion chips
  function box() {
    let g = document.getElementById("standards");
    if (g) return g;
    const strip = document.getElementById("participation");
    if (!strip) return null;
    g = el("div", null, "standards");
    g.id = "standards";
    g.setAttribute("role", "group");
    g.setAttribute("aria-labelledby", "standards-title");
    const title = bi("h2", "响应标准", "Response standards");
    title.id = "standards-title";
    g.append(title, el("div", null, "pfigs"));
    strip.insertBefore(g, strip.querySelector(".ptop"));
    return g;
  }

  const pct = (r) => (r === null || r === undefined ? "—" : (r * 100).toFixed(1) + "%");

  function draw(body) {
    const g = box();
    if (!g) return;
    const figs = g.querySelector(".pfigs");
    figs.replaceChildren();
    g.hidden = !body || !body.standards.length;
    for (const s of body ? body.standards : []) {
      for (const step of s.steps) {
        const n = s.total.steps[step.id];
        const d = el("div", null, "pfig");
        d.dataset.standard = s.id;
        d.dataset.step = step.id;
        d.append(el("b", pct(n.rate)), bi("span", step.rate_zh, step.rate_en, "label"));
        const zh = `${s.name_zh} · ${step.name_zh}：达标 ${n.met} / 应计 ${n.denominator}` + (n.pending ? `，未到时限 ${n.pending}` : "");
        const en = `${s.name_en} · ${step.name_en}: met ${n.met} of ${n.denominator}` + (n.pending ? `, ${n.pending} not yet due` : "");
        d.title = document.documentElement.lang === "en" ? en : zh;
        figs.append(d);
      }
    }
    const lines = [...figs.children].map((d) => d.title.split(" · ").slice(1).join(" · ") + " = " + d.querySelector("b").textContent);
    g.querySelector("h2").title = lines.join("\n");
    fit();
  }

  // leave out the figures that would push the strip's last items (热点建议, 详情) off
  function fit() {
    const g = document.getElementById("standards");
    const strip = document.getElementById("participation");
    if (!g || !strip) return;
    const figs = [...g.querySelectorAll(".pfig")];
    for (const d of figs) d.classList.remove("unfit");
    const cs = getComputedStyle(strip);
    if (cs.flexWrap !== "nowrap") return; // a wrapping strip has room on its next line
    const gap = parseFloat(cs.columnGap) || 0;
    let limit = strip.getBoundingClientRect().right - (parseFloat(cs.paddingRight) || 0);
    for (const sel of [".ptop", ".pmore"]) {
      const e = strip.querySelector(sel);
      if (e) limit -= e.getBoundingClientRect().width + gap;
    }
    let out = false;
    for (const d of figs) {
      out = out || d.getBoundingClientRect().right > limit + 0.5;
      if (out) d.classList.add("unfit");
    }
  }
  window.addEventListener("resize", fit);

  async function load() {
    clearTimeout(timer);
    if (!view) return;
    const mine = ++gen;
    const q = new URLSearchParams();
    for (const k of ["area", "first", "last"]) if (view[k]) q.set(k, view[k]);
    try {
      const r = await api("/api/v1/standards/attainment?" + q.toString());
      if (mine !== gen) return;
      draw(r.ok ? await r.json() : null);
    } catch (e) {
      if (mine === gen) draw(null);
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  document.addEventListener("cockpit:view", (ev) => {
    view = ev.detail;
    load();
  });
  window.cityeye.lang.onChange(() => view && load());
})();
