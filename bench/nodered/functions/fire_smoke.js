// Rule fire.smoke (SCENARIOS.md): per building (attrs.building, else the device's
// building, else the device), any smoke.alarm raises an alert (high, unverified);
// later alarms join it. It is verified (critical) by a second device's alarm in the
// same building within 120 s, or a temperature.reading >= 57 C there within 120 s
// (before or after). It resolves only by a handled case or a dismissal, which the
// stream does not contain, so every alert stays open.
// @initialize
const WINDOW = 120;
const HOT = 57;
const world = global.get("bench").world;
const st = { open: new Map(), hot: new Map(), opened: 0, updated: 0, resolved: 0 };

function building(ev) {
    const attrs = ev.attrs;
    if (attrs !== undefined && attrs.building !== undefined) return attrs.building;
    const b = world.buildingOf.get(ev.device_id);
    return b !== undefined ? b : ev.device_id;
}
function change(kind, key, ts, severity) {
    return { topic: "alert", payload: { rule: "fire.smoke", change: kind, key: key, ts: ts, severity: severity } };
}

st.onAlarm = function (msg) {
    const ev = msg.payload;
    const key = building(ev);
    const ts = msg.ts;
    const out = [];
    let a = st.open.get(key);
    if (a === undefined) {
        a = { alarms: [], verified: false, count: 0 };
        st.open.set(key, a);
        st.opened += 1;
        out.push(change("opened", key, ts, "high"));
    }
    a.count += 1;
    let verified = false;
    const recent = [];
    for (const [t, dev] of a.alarms) {
        if (ts - t <= WINDOW) {
            recent.push([t, dev]);
            if (dev !== ev.device_id) verified = true;
        }
    }
    recent.push([ts, ev.device_id]);
    a.alarms = recent;
    const hot = st.hot.get(key);
    if (hot !== undefined && ts - hot <= WINDOW) verified = true;
    if (verified && !a.verified) {
        a.verified = true;
        st.updated += 1;
        out.push(change("updated", key, ts, "critical"));
    }
    return [out];
};

st.onReading = function (msg) {
    const ev = msg.payload;
    const celsius = ev.attrs === undefined ? undefined : ev.attrs.celsius;
    if (!(celsius >= HOT)) return null;
    const key = building(ev);
    const ts = msg.ts;
    st.hot.set(key, ts);
    const a = st.open.get(key);
    if (a === undefined || a.verified) return null;
    for (const [t] of a.alarms) {
        if (ts - t <= WINDOW) {
            a.verified = true;
            st.updated += 1;
            return change("updated", key, ts, "critical");
        }
    }
    return null;
};

st.onEnd = function (msg) {
    let critical = 0;
    for (const a of st.open.values()) if (a.verified) critical += 1;
    return {
        topic: "eos",
        ingest: msg.ingest,
        payload: { rule: "fire.smoke", opened: st.opened, updated: st.updated, resolved: st.resolved, open: st.open.size, high: st.open.size - critical, critical: critical },
    };
};

context.set("st", st);
// @func
const st = context.get("st");
if (msg.topic === "smoke.alarm") return st.onAlarm(msg);
if (msg.topic === "temperature.reading") return st.onReading(msg);
if (msg.topic === "eos") return st.onEnd(msg);
return null;
