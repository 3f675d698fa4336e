// The cockpit map's layers (issue 18, item 3), over the boundaries cockpit.js draws:
// area names, the registered elderly living alone as a count per community, devices
// and cameras coloured by state, venues, and the grids with their grid workers. A bar
// under the map is their legend and their switches, remembered in this browser
// (localStorage). Everything comes from GET /api/v1/map/layers?area= (bound by the
// user's area scope there), reloaded on each drill and every minute.
//
// Never a person's home on the big screen: the API sends the elderly only as counts and
// leaves the devices in their homes out of the points; this file only draws what it gets.
"use strict";
window.cityeye = window.cityeye || {};
window.cityeye.layers = (function () {
  const KEY = "cityeye.cockpit.layers";
  const RELOAD_MS = 60000;
  const ORDER = ["labels", "elderly", "devices", "cameras", "venues", "grids"];
  const DEFAULT = { labels: true, elderly: true, devices: false, cameras: false, venues: false, grids: false };
  const STATE_COLOUR = { alarming: "#e74c3c", online: "#2ecc71", quiet: "#7f8c8d" };
  const T = {
    zh: {
      labels: "区域名称", elderly: "独居老人（社区计数）", devices: "物联设备", cameras: "视频监控",
      venues: "重点场所", grids: "网格员",
      alarming: "告警", online: "在线", quiet: "无上报", quiet_long: "24 小时内没有上报（只在报警时上报的设备平时如此）",
      persons: "人", home_devices: "居家设备", worker: "网格员", no_roster: "无值班数据",
      sales_venue: "保健品销售场所", sensitive: "重点场所", restaurant: "餐饮场所", other: "场所",
      none: "无", sep: "：",
    },
    en: {
      labels: "Area names", elderly: "Elderly alone (per community)", devices: "Devices",
      cameras: "Cameras", venues: "Venues", grids: "Grid workers",
      alarming: "alarming", online: "online", quiet: "silent", quiet_long: "nothing sent in 24 h (devices that only report alarms are usually so)",
      persons: "people", home_devices: "home devices", worker: "Grid worker", no_roster: "no duty roster",
      sales_venue: "Health-product sales venue", sensitive: "Watched venue", restaurant: "Restaurant", other: "Venue",
      none: "none", sep: ": ",
    },
  };

  function attach(map, ctx) {
    const { el, api, names } = window.cityeye;
    const t = (key) => T[ctx.lang()][key] ?? T.zh[key] ?? key;
    const rem = () => (window.cityeye.screen ? window.cityeye.screen.rem() : 16);
    const kindName = (kind) => (ctx.lang() === "en" ? names.en("device_kinds", kind) : names.zh("device_kinds", kind));

    // panes: the layers above the area fills, the alert markers above the layers
    map.createPane("layers").style.zIndex = 410;
    map.createPane("alerts").style.zIndex = 420;
    const groups = Object.fromEntries(ORDER.map((k) => [k, L.layerGroup()]));
    let on = { ...DEFAULT };
    try { on = { ...DEFAULT, ...JSON.parse(localStorage.getItem(KEY) || "{}") }; } catch (e) { /* keep the defaults */ }
    for (const k of ORDER) if (on[k]) groups[k].addTo(map);

    let area = null, data = null, gen = 0, timer = null;
    const drawn = Object.fromEntries(ORDER.map((k) => [k, 0]));

    function middle(code) {
      const b = ctx.bbox(code);
      return b ? [(b.minY + b.maxY) / 2, (b.minX + b.maxX) / 2] : null;
    }
    // a point of its own, else near the middle of its area, as the alerts are placed
    const at = (item) => (item.lat !== null && item.lat !== undefined ? [item.lat, item.lon] : ctx.place({ id: item.id, area: item.area }));

    // a name written on the map, not a marker: nothing to click, the area under it drills
    const text = (p, words, options) => L.tooltip({ permanent: true, className: "area-label", interactive: false, ...options }).setLatLng(p).setContent(el("span", words));

    function labels() {
      const g = groups.labels;
      g.clearLayers();
      const kids = ctx.children(area);
      // the biggest areas first: where two names would overlap, the bigger keeps its own
      const size = (code) => { const b = ctx.bbox(code); return b ? (b.maxX - b.minX) * (b.maxY - b.minY) : 0; };
      for (const code of (kids.length ? kids : [area]).slice().sort((a, b) => size(b) - size(a))) {
        const p = middle(code);
        if (!p) continue;
        // inside 明真宫社区 its grids are 第1网格 …: the name without its parent's in front
        const full = ctx.areaName(code), outer = ctx.areaName(area);
        const short = code !== area && full.startsWith(outer) && full.length > outer.length ? full.slice(outer.length) : full;
        g.addLayer(text(p, short, { direction: "center" }));
      }
      drawn.labels = g.getLayers().length;
    }

    // The communities' counts as many bubbles as the map has areas: a district's map
    // one per street, a street's one per community, a community's its own — never
    // finer than a community (the API's counts are per community).
    function bubbles() {
      const kids = ctx.children(area);
      const level = ctx.level(area);
      const home = (code) => {
        if (level === "community" || level === "grid" || !kids.length) return area;
        for (let c = code; c; c = ctx.parent(c)) if (kids.includes(c)) return c;
        return null;
      };
      const out = new Map();
      for (const c of data ? data.elderly : []) {
        const at = home(c.area);
        if (!at) continue;
        const b = out.get(at) || { area: at, count: 0 };
        b.count += c.count;
        out.set(at, b);
      }
      return [...out.values()];
    }

    function elderly() {
      const g = groups.elderly;
      g.clearLayers();
      for (const c of bubbles()) {
        const centre = middle(c.area);
        if (!centre) continue;
        // just under the community's name, not on it
        const p = map.containerPointToLatLng(map.latLngToContainerPoint(centre).add([0, 1.5 * rem()]));
        const radius = Math.min(24, 8 + 1.3 * Math.sqrt(c.count)) * (rem() / 16);
        // not clickable: the bubble is a number, and the areas under it drill down
        const m = L.circleMarker(p, { radius, color: "#f5eef8", weight: 1.5, fillColor: "#8e44ad", fillOpacity: 0.85, pane: "layers", className: "elderly-bubble", interactive: false });
        m.bindTooltip(String(c.count), { permanent: true, direction: "center", className: "elderly-count", interactive: false });
        g.addLayer(m);
      }
      drawn.elderly = g.getLayers().length;
    }

    function points(layer) {
      const g = groups[layer];
      g.clearLayers();
      const r = rem() / 16;
      for (const d of data ? data[layer] : []) {
        const p = at(d);
        if (!p) continue;
        const camera = layer === "cameras";
        const m = L.circleMarker(p, {
          radius: (camera ? 5 : 3.5) * r, weight: camera ? 2 : 1, color: camera ? "#d6eaf8" : "#0b1623",
          fillColor: STATE_COLOUR[d.state] || "#7f8c8d", fillOpacity: 0.95, pane: "layers",
          className: "layer-point " + layer + " " + d.state,
        });
        m.bindTooltip(() => el("span", kindName(d.kind) + " · " + t(d.state) + " · " + ctx.areaName(d.area)));
        g.addLayer(m);
      }
      drawn[layer] = g.getLayers().length;
    }

    function venues() {
      const g = groups.venues;
      g.clearLayers();
      const size = Math.round(0.8 * rem());
      for (const v of data ? data.venues : []) {
        const p = at(v);
        if (!p) continue;
        const icon = L.divIcon({ className: "map-icon venue", html: "<span></span>", iconSize: [size, size] });
        const m = L.marker(p, { icon, pane: "layers", keyboard: false });
        m.bindTooltip(() => el("span", (v.name || t(v.kind)) + " · " + t(v.kind) + " · " + ctx.areaName(v.area)));
        g.addLayer(m);
      }
      drawn.venues = g.getLayers().length;
    }

    function grids() {
      const g = groups.grids;
      g.clearLayers();
      const level = ctx.level(area);
      for (const grid of data ? data.grids : []) {
        const shape = ctx.boundary(grid.area);
        if (!shape) continue;
        g.addLayer(L.geoJSON(shape, { pane: "layers", interactive: false, style: { color: "#f7dc6f", weight: 1.5, dashArray: "4 4", fill: false } }));
        // a community's few grids: whose each one is, by name (staff, not residents)
        if (level === "community" || level === "grid") {
          const p = middle(grid.area);
          if (!p) continue;
          // the name without the note after it: 袁峰军（明真宫社区第4网格专职网格员） → 袁峰军
          // (on_duty is null: no roster says who is on duty, so nobody is marked so)
          const who = grid.workers.map((w) => w.replace(/\s*[（(][^）)]*[）)]$/, "")).join("、");
          g.addLayer(text(p, t("worker") + " " + who, { direction: "bottom", offset: [0, rem()] }));
        }
      }
      drawn.grids = g.getLayers().length;
    }

    function render() {
      if (!area) return;
      labels();
      elderly();
      points("devices");
      points("cameras");
      venues();
      grids();
      bar();
      declutter();
    }

    // Names never on top of each other: one that would overlap a name already shown is
    // left out at this zoom (the table lists every area, and hovering one names it).
    function declutter() {
      const kept = [];
      for (const tip of [...groups.labels.getLayers(), ...groups.grids.getLayers()]) {
        const e = tip.getElement ? tip.getElement() : null;
        if (!e || !e.classList.contains("area-label")) continue;
        e.classList.remove("crowded");
        const r = e.getBoundingClientRect();
        if (!r.width) continue;
        if (kept.some((k) => r.left < k.right && r.right > k.left && r.top < k.bottom && r.bottom > k.top)) e.classList.add("crowded");
        else kept.push(r);
      }
    }
    map.on("zoomend", () => { if (area) { elderly(); declutter(); } });

    // the legend and switches: a box, the symbol, the name and how many; the states of
    // devices and cameras counted beside them
    function bar() {
      const box = document.getElementById("layer-bar");
      if (!box) return;
      box.replaceChildren();
      for (const k of ORDER) {
        const label = el("label");
        label.dataset.layer = k;
        const input = document.createElement("input");
        input.type = "checkbox";
        input.checked = !!on[k];
        input.addEventListener("change", () => toggle(k, input.checked));
        // the symbol the layer draws with: a dot, a ringed dot, a bubble, a square, a dashed box, a name
        label.append(input);
        if (k !== "labels") label.append(el("i", "", "sym " + k.replace(/s$/, "")));
        label.append(el("span", t(k)));
        const items = data && k !== "labels" ? data[k] || [] : null;
        if (items) {
          const n = k === "elderly" ? items.reduce((s, c) => s + c.count, 0) : items.length;
          label.append(el("span", String(n), "n"));
        }
        if (k === "grids") label.title = t("worker") + t("sep") + t("no_roster");
        box.append(label);
        if (items && (k === "devices" || k === "cameras" || k === "elderly") && on[k]) {
          const count = { alarming: 0, online: 0, quiet: 0 };
          const kinds = {};
          for (const d of items) {
            if (k === "elderly") for (const [s, n] of Object.entries(d.devices || {})) count[s] = (count[s] || 0) + n;
            else { count[d.state] = (count[d.state] || 0) + 1; kinds[d.kind] = (kinds[d.kind] || 0) + 1; }
          }
          // the elderly's home devices are counted here, never drawn where they are
          const states = el("span", k === "elderly" ? t("home_devices") : null, "states");
          states.dataset.states = k;
          for (const s of ["alarming", "online", "quiet"].filter((x) => count[x])) {
            const part = el("span", " " + t(s) + " " + count[s] + " ");
            part.prepend(el("i", "", "sym " + s));
            states.append(part);
          }
          states.title = t("quiet") + "：" + t("quiet_long") + (Object.keys(kinds).length ? "\n" : "") + Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([kind, n]) => kindName(kind) + " " + n).join(" · ");
          box.append(states);
        }
      }
    }

    function toggle(k, value) {
      on[k] = value;
      localStorage.setItem(KEY, JSON.stringify(on));
      if (value) groups[k].addTo(map); else groups[k].remove();
      bar();
    }

    async function load() {
      const mine = ++gen;
      clearTimeout(timer);
      try {
        const r = await api("/api/v1/map/layers?area=" + encodeURIComponent(area));
        if (mine !== gen) return;
        data = r.ok ? await r.json() : null;
      } catch (e) {
        if (mine !== gen) return;
        data = null; // offline for a moment: keep the boundaries, try again later
      }
      render();
      timer = setTimeout(load, RELOAD_MS);
    }

    // cockpit.js calls this when it draws the map of an area
    function draw(code) {
      area = code;
      data = null;
      render(); // the names at once, the rest when it comes
      load();
    }

    if (window.cityeye.screen) window.cityeye.screen.onChange(() => area && render()); // sizes are in rem
    return {
      draw,
      relabel: render, // the language changed
      counts: () => ({ ...drawn }),
      on: () => ({ ...on }),
    };
  }

  return { attach };
})();
