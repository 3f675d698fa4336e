// The desk's service worker (served at /desk-sw.js, scope /desk): the desk starts with
// the network off, and a notification shown through it opens its case.
//
// It keeps only the shell: the page, its styles, scripts, font slices and icons, all
// the same for everybody. Nothing under /api/ ever goes through it — not the case
// list (a kept one would show work someone else already took), not sign-in or /me
// (a kept answer would be the previous user's), not the alert stream. Those go to the
// server as if there were no worker; offline they fail and the desk says it is offline.
//
// The shell is fetched network-first: online, the desk is always the server's current
// one (an upgrade shows at once); the kept copy is only for when the network is away.
"use strict";
const CACHE = "cityeye-desk-v3"; // a new name when the shell's files change: the old copy goes
const SHELL = [
  "/desk",
  "/static/base.css",
  "/static/vendor/fonts.css",
  "/static/desk/desk.css",
  "/static/vendor/leaflet/leaflet.css",
  "/static/vendor/leaflet/leaflet.js",
  "/static/common.js",
  "/static/desk/desk.js",
  "/static/desk/desk.webmanifest",
  "/static/desk/icon-192.png",
  "/static/desk/icon-512.png",
  "/static/favicon.ico",
];

self.addEventListener("install", (ev) => {
  ev.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("cityeye-desk-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function shell(url) {
  // the desk page and the package's static files; never /api/, /login or anything else
  return url.origin === self.location.origin && (url.pathname === "/desk" || url.pathname.startsWith("/static/"));
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await fetch(request);
    if (answer.ok && answer.type === "basic") await cache.put(request, answer.clone());
    return answer;
  } catch (e) {
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept) return kept;
    throw e; // neither network nor a kept copy: the browser's own offline page
  }
}

self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || !shell(url)) return; // straight to the network
  ev.respondWith(networkFirst(ev.request));
});

// a notification shown through the worker (phones allow no other kind): a tap
// brings the desk forward on the case, or opens it
self.addEventListener("notificationclick", (ev) => {
  ev.notification.close();
  const target = new URL((ev.notification.data && ev.notification.data.url) || "/desk", self.location.origin).href;
  ev.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const desk = windows.find((w) => new URL(w.url).pathname === "/desk");
      // a case or a tab opens in the desk in place; a bulletin's file or the board, anew
      if (desk && new URL(target).pathname === "/desk") {
        desk.postMessage({ open: target }); // the desk opens the case in place (desk.js)
        return desk.focus();
      }
      return self.clients.openWindow(target);
    }),
  );
});
