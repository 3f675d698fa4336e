// The cockpit on the wall (issue 18, item 4): the charts' text at the screen's scale,
// the participation chips shown whole or not at all, the kiosk mode that shows the
// streets in turn, and the cue — a flashing banner and a tone — for a new critical alert.
//
// The layout scales in CSS (cockpit.css: the root font is 1/120 of the width or 1/67.5
// of the height, 16 px at 1920×1080); ECharts draws on a canvas, so its sizes come from
// rem() here and are applied again when the root size changes (onChange).
//
// Sound: a browser plays nothing until the page has had a click or a key (autoplay
// policy), and no script can get round that. The sound button says so ("点一下页面以
// 启用提示音") until then, and the banner flashes anyway. A wall screen with nobody at
// it needs its browser started with --autoplay-policy=no-user-gesture-required
// (docs/cockpit.md). The tone is common.js's WebAudio chime: no audio file.
"use strict";
window.cityeye = window.cityeye || {};
window.cityeye.screen = (function () {
  const MUTE_KEY = "cityeye.cockpit.mute";
  const $ = (id) => document.getElementById(id);
  const lang = () => (window.cityeye.lang && window.cityeye.lang.get() === "en" ? "en" : "zh");
  const T = {
    zh: {
      sound_on: "提示音：开", sound_off: "提示音：关", sound_locked: "点一下页面以启用提示音",
      critical: "紧急预警", seen: "知道了", more: "另有 {n} 条",
      blocked: "（浏览器未允许播放声音：点一下页面即可启用）",
      kiosk: "轮播 · 每 {n} 秒", kiosk_paused: "轮播已暂停（有人操作）", top: "前 {n} 项",
    },
    en: {
      sound_on: "Sound: on", sound_off: "Sound: off", sound_locked: "Click the page to enable sound",
      critical: "Critical alert", seen: "Dismiss", more: "{n} more",
      blocked: "(the browser blocks sound until the page is clicked)",
      kiosk: "Touring · every {n} s", kiosk_paused: "Tour paused (someone is using it)", top: "top {n}",
    },
  };
  const t = (key, n) => (T[lang()][key] || T.zh[key]).replace("{n}", n);

  // ------------------------------------------------------------------ scale
  function rem() {
    return parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  }
  const listeners = [];
  let lastRem = rem();
  window.addEventListener("resize", () => {
    const now = rem();
    if (Math.abs(now - lastRem) > 0.01) {
      lastRem = now;
      for (const f of listeners) f();
    }
    fitChips();
  });
  // call f when the root size changes (the charts re-apply their text sizes)
  function onChange(f) {
    listeners.push(f);
  }

  // How many bars of a horizontal bar chart fit in el with their labels unhidden, at
  // most want: a short screen shows the first few, named as such (top(n)), rather
  // than every third label.
  function rows(el, want) {
    const fs = rem();
    const plot = (el ? el.clientHeight : 0) - fs * 2.2 - fs * 2.2; // legend above, axis below
    return Math.max(1, Math.min(want, Math.floor(plot / (fs * 1.3))));
  }
  const top = (n) => t("top", n);

  // An ECharts option with its text at the screen's scale: every text 1 rem (16 px at
  // 1920), the plot inset by its labels (containLabel: the two y-axes of the trend no
  // longer run into each other), category labels all shown — wrapped under a column
  // chart, shortened with … beside a bar chart — and bars as wide as the scale.
  function chart(option, el) {
    const fs = Math.round(rem());
    const k = fs / 16;
    const text = (s) => ({ ...(s || {}), fontSize: fs });
    const o = { ...option };
    o.textStyle = text(o.textStyle);
    if (o.legend) o.legend = { ...o.legend, textStyle: text(o.legend.textStyle), itemWidth: fs * 1.4, itemHeight: fs * 0.85, itemGap: fs * 0.8, top: 0 };
    if (o.tooltip) o.tooltip = { ...o.tooltip, textStyle: text(o.tooltip.textStyle) };
    if (o.title && o.title.textStyle) o.title = { ...o.title, textStyle: text(o.title.textStyle) };
    o.grid = { left: fs * 0.4, right: fs * 0.9, top: fs * 2.2, bottom: fs * 0.3, containLabel: true };
    const width = el ? el.clientWidth : 600;
    const axis = (a, horizontal) => {
      const label = { ...(a.axisLabel || {}), fontSize: fs };
      const n = Array.isArray(a.data) ? a.data.length : 0;
      if (a.type === "category" && horizontal && n && n <= 12) {
        // a column chart's few names: all of them, wrapped to the column's width
        Object.assign(label, { interval: 0, width: Math.max(fs * 3, (width - fs * 4) / n - fs * 0.4), overflow: "break", lineHeight: fs * 1.15 });
      } else if (a.type === "category" && horizontal) {
        // days: every so many, never on top of each other; room below for them (ECharts
        // counts these labels shorter than they are: the bottom line was cut off)
        Object.assign(label, { hideOverlap: true });
        o.grid = { ...o.grid, bottom: fs * 1.1 };
      } else if (a.type === "category") {
        // a bar chart's names: every one, as wide as the longest (at most 40 % of the
        // chart, shortened with … beyond); the plot starts after them (ECharts'
        // containLabel does not count a width it truncates to)
        const w = Math.min(width * 0.4, Math.max(fs * 3, ...(a.data || []).map((d) => measure(typeof d === "object" ? d.value : d, fs) * 1.08 + fs * 0.3)));
        Object.assign(label, { interval: 0, width: Math.ceil(w), overflow: "truncate" });
        o.grid = { ...o.grid, left: Math.ceil(w) + fs * 0.9, containLabel: false, bottom: fs * 2 };
      }
      return { ...a, axisLabel: label, nameTextStyle: text(a.nameTextStyle) };
    };
    const axes = (a, horizontal) => (a === undefined ? a : Array.isArray(a) ? a.map((x) => axis(x, horizontal)) : axis(a, horizontal));
    o.xAxis = axes(o.xAxis, true);
    o.yAxis = axes(o.yAxis, false);
    if (Array.isArray(o.series)) o.series = o.series.map((s) => (s.barMaxWidth ? { ...s, barMaxWidth: s.barMaxWidth * k } : s));
    return o;
  }

  // the width of a text in the page's font at size px (for a chart's label column)
  const ruler = document.createElement("canvas").getContext("2d");
  function measure(text, px) {
    ruler.font = px + "px cityeye-sans, system-ui, sans-serif";
    return ruler.measureText(String(text || "")).width;
  }

  // ------------------------------------------------------------------ chips
  // The top suggestion groups: a chip is shown whole or left out; one longer than
  // 22 rem on its own is shortened with … (its whole text in the tooltip).
  function fitChips() {
    const box = $("participation-groups");
    if (!box) return;
    const limit = box.getBoundingClientRect().right + 0.5;
    const max = 22 * rem();
    for (const li of box.children) {
      li.classList.remove("unfit");
      const span = li.querySelector("span");
      if (!span) continue;
      if (!span.dataset.full) span.dataset.full = span.textContent;
      const full = span.dataset.full;
      span.textContent = full;
      if (li.scrollWidth > max) {
        const keep = Math.max(4, Math.floor(full.length * (max / li.scrollWidth)) - 1);
        span.textContent = full.slice(0, keep) + "…";
        li.title = full + (li.title ? " · " + li.title : "");
      }
    }
    for (const li of box.children) if (li.getBoundingClientRect().right > limit) li.classList.add("unfit");
  }
  function watchChips() {
    const box = $("participation-groups");
    if (box) new MutationObserver(fitChips).observe(box, { childList: true });
  }

  // ------------------------------------------------------------------ sound
  // the chime and the browsers' rule about it are common.js's (cityeye.sound)
  const sound = window.cityeye.sound;
  let muted = localStorage.getItem(MUTE_KEY) === "1";
  function soundState() {
    if (muted) return "muted";
    return sound.ready() ? "ready" : "locked";
  }
  function showSound() {
    const b = $("sound");
    if (!b) return;
    const s = soundState();
    b.dataset.state = s;
    b.textContent = t(s === "muted" ? "sound_off" : s === "ready" ? "sound_on" : "sound_locked");
    b.setAttribute("aria-pressed", String(!muted));
  }
  // the first click or key anywhere: the browser now lets the page make a sound. A
  // click's label change waits until the click is done (the next task after the
  // pointer is up): the shorter label can take a line off the bar, and changed while the
  // pointer is down it would move the button under it, and the click would be lost
  let pressing = false;
  document.addEventListener("pointerdown", () => { pressing = true; sound.unlock(); }, { capture: true });
  for (const type of ["pointerup", "pointercancel"]) {
    document.addEventListener(type, () => setTimeout(() => { pressing = false; showSound(); }), { capture: true });
  }
  document.addEventListener("keydown", () => { sound.unlock(); showSound(); }, { capture: true });
  sound.onChange(() => { if (!pressing) showSound(); });

  // three beeps, high-low-high; whether they can be heard
  function tone() {
    if (soundState() !== "ready") return false;
    sound.chime([880, 660, 880], 0.35, 0.35);
    return true;
  }

  // ------------------------------------------------------------------ cue
  // A new critical alert (opened within the last half hour of the server's clock, not
  // one seen before): the banner, in Chinese (and English beside it on an English
  // page), and the tone. It stays until someone says they have seen it.
  const RECENT_MS = 30 * 60 * 1000;
  const cued = new Set();
  let waiting = 0;
  let openCases = null;
  function alert(a, info) {
    if (!a || a.severity !== "critical" || a.resolved_at || cued.has(a.id)) return false;
    cued.add(a.id);
    const clock = window.cityeye.clock;
    const now = clock && clock.now ? +clock.now() : Date.now();
    const opened = Date.parse(a.opened_at);
    if (opened && now - opened > RECENT_MS) return false; // an old alert growing: not new
    const box = $("cue");
    if (!box) return false;
    waiting = box.hidden ? 0 : waiting + 1;
    const s = info.scenario || {};
    const names = [s.name_zh || a.scenario];
    if (lang() === "en" && s.name_en) names.push(s.name_en);
    const words = [t("critical"), names.join(" "), info.area].filter(Boolean).join(" · ");
    const text = document.createElement("span");
    text.className = "cue-text";
    text.textContent = words + (waiting ? "（" + t("more", waiting) + "）" : "");
    openCases = info.open || null;
    text.addEventListener("click", () => openCases && openCases());
    const played = tone();
    const note = document.createElement("span");
    note.className = "cue-note";
    note.textContent = played || muted ? "" : t("blocked");
    const seen = document.createElement("button");
    seen.type = "button";
    seen.textContent = t("seen");
    seen.addEventListener("click", () => { box.hidden = true; waiting = 0; });
    box.replaceChildren(text, note, seen);
    box.dataset.alert = a.id;
    box.dataset.sound = played ? "played" : muted ? "muted" : "blocked";
    box.hidden = false;
    return true;
  }

  // ------------------------------------------------------------------ kiosk
  // ?kiosk=1 (&every=N seconds, default 30): no controls; the user's own area, then
  // each area under it (a district's streets) in turn; any click, key or wheel pauses
  // the tour for a minute (or two turns, if longer) from the last touch.
  let tour = null;
  function kiosk(opts) {
    const q = new URLSearchParams(location.search);
    if (q.get("kiosk") !== "1") return null;
    const every = Math.min(3600, Math.max(5, Number(q.get("every")) || 30));
    document.body.classList.add("kiosk");
    const badge = $("kiosk");
    let shown = Date.now();
    let pausedUntil = 0;
    let i = 0;
    const show = () => {
      if (!badge) return;
      const paused = Date.now() < pausedUntil;
      badge.hidden = false;
      badge.classList.toggle("paused", paused);
      badge.textContent = paused ? t("kiosk_paused") : t("kiosk", every);
    };
    const pause = () => {
      pausedUntil = Date.now() + Math.max(60, 2 * every) * 1000;
      show();
    };
    for (const type of ["pointerdown", "keydown", "wheel"]) document.addEventListener(type, pause, { capture: true, passive: true });
    setInterval(() => {
      show();
      if (Date.now() < pausedUntil || Date.now() - shown < every * 1000) return;
      const stops = [opts.root, ...opts.children()];
      if (stops.length < 2) return;
      i = (i + 1) % stops.length;
      shown = Date.now();
      opts.drill(stops[i]);
    }, 1000);
    show();
    tour = { every, paused: () => Date.now() < pausedUntil };
    return tour;
  }

  // ------------------------------------------------------------------ start
  const soundButton = $("sound");
  if (soundButton) {
    soundButton.addEventListener("click", () => {
      muted = !muted;
      localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
      showSound();
    });
  }
  if (window.cityeye.lang && window.cityeye.lang.onChange) window.cityeye.lang.onChange(showSound); // the kiosk badge follows at its next tick
  showSound();
  watchChips();

  return { rem, onChange, chart, rows, top, fitChips, alert, kiosk, tone, soundState };
})();
