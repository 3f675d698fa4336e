// The server's clock, for every page: one "now" for the desk's countdowns, the portal's
// dates and the cockpit's badge. Live time is the server's (GET /api/v1/clock), not the
// browser's: a phone whose clock is off, or a demo replaying a simulated day at 60×,
// still counts down from the same time as the engine and the case deadlines.
//
// The page fetches the clock once and keeps where it stood and when (by the browser's
// monotonic performance.now(), so changing the phone's clock moves nothing); "now" is
// then that time plus the real time since, times the replay's speed. It re-syncs every
// RESYNC_MS (a speed changed by an admin, the replay's end). Without an answer (offline,
// an older server) it is the browser's own clock. Times are shown in the district's
// timezone (the clock's `timezone`), whatever the phone's.
"use strict";
window.cityeye = window.cityeye || {};
window.cityeye.clock = (function () {
  const RESYNC_MS = 30000;
  let sync = null; // { at: server ms, mono: performance.now() then, speed, mode, timezone }
  const listeners = [];

  function parse(iso) {
    // Python writes microseconds (.123456); keep milliseconds, which every browser reads
    return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
  }

  async function refresh() {
    try {
      const sent = performance.now();
      const r = await fetch("/api/v1/clock", { credentials: "same-origin" });
      if (!r.ok) return sync;
      const body = await r.json();
      const mono = (sent + performance.now()) / 2; // the answer was made about halfway
      sync = {
        at: parse(body.now),
        mono,
        speed: body.speed == null ? 1 : body.speed,
        mode: body.mode || (body.speed == null ? "live" : "replay"),
        timezone: body.timezone || undefined,
        body,
      };
      for (const f of listeners) f(sync);
    } catch (e) {
      // offline for now: keep the last sync (or the browser's clock) until the next try
    }
    return sync;
  }

  const ready = refresh();
  setInterval(refresh, RESYNC_MS);

  // the server's time now, in milliseconds since the epoch
  function now() {
    if (!sync) return Date.now();
    return sync.at + (performance.now() - sync.mono) * sync.speed;
  }

  // "live" | "replay" | "replay_ended" (null before the first answer)
  function mode() {
    return sync ? sync.mode : null;
  }

  function speed() {
    return sync ? sync.speed : null;
  }

  // the district's IANA timezone (undefined before the first answer: the browser's)
  function timezone() {
    return sync ? sync.timezone : undefined;
  }

  // a time (ISO 8601, or ms) as the district reads it: 2026/10/2 07:30:00
  function format(value, options) {
    const when = typeof value === "number" ? new Date(value) : new Date(parse(value));
    return when.toLocaleString("zh-CN", { hour12: false, timeZone: timezone(), ...options });
  }

  // the district's calendar day of a time (default now): "2026-10-02"
  function day(value) {
    const when = new Date(value == null ? now() : typeof value === "number" ? value : parse(value));
    const parts = new Intl.DateTimeFormat("en-CA", { timeZone: timezone(), year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(when);
    const part = (type) => parts.find((p) => p.type === type).value;
    return part("year") + "-" + part("month") + "-" + part("day");
  }

  // call f(sync) after every answer of the server (the badge, a speed shown)
  function onSync(f) {
    listeners.push(f);
    if (sync) f(sync);
  }

  return { ready, refresh, now, mode, speed, timezone, format, day, onSync };
})();
