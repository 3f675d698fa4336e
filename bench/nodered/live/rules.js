// Node "rules" of bench/live.py's Node-RED peer: five rules like five of cityeye's
// scenarios, on events arriving one per MQTT message (the "mqtt in" node has already
// parsed the JSON). Output 1: batched inserts of every new event into SQLite; output 2:
// one insert per alert opened or upgraded.
//   - duplicates by id are dropped (cityeye: by (source, id));
//   - smoke.alarm: an alert (high) per building (attrs.building); a second detector of
//     the building within 120 s upgrades it to critical (fire.smoke, "verified");
//   - button.sos: an alert (critical) per button (elderly.sos keys by subject: the flow
//     has no world, so the button stands for its subject);
//   - bin.fill with attrs.level >= 90: an alert per bin, until a reading below 90;
//   - access.denied: 5 at one gate within 10 min: an alert per gate, until 10 min quiet;
//   - crowd.count with attrs.count >= 200: an alert per counter, until a count below.
// No reorder buffer and no lateness: events are taken in arrival order (cityeye holds
// them for its in-order pass as well), which flatters Node-RED.
// Events are batched here, up to BATCH or FLUSH_MS, into one multi-row
// "INSERT OR IGNORE" (one statement: one implicit transaction on the sqlite node's one
// connection, so concurrent batches never interleave), as Node-RED at its best would
// write; the sqlite node would otherwise commit every message on its own.
// @initialize
// (nothing)
// @func
const BATCH = 500;
const FLUSH_MS = 50;
let st = context.get("st");
if (!st) {
    st = {
        seen: new Set(),
        pending: [],
        timer: null,
        smoke: new Map(),
        open: new Set(),
        denials: new Map(),
        dups: 0,
    };
    context.set("st", st);
}
const q = (s) => "'" + String(s).replace(/'/g, "''") + "'";
function flush() {
    if (st.timer) {
        clearTimeout(st.timer);
        st.timer = null;
    }
    if (st.pending.length === 0) return;
    const rows = st.pending;
    st.pending = [];
    node.send([{ topic: "INSERT OR IGNORE INTO events(id, kind, ts, body) VALUES " + rows.join(",") }, null], false);
}
function alert(rule, key, severity, e) {
    node.send([null, { params: { $rule: rule, $key: key, $severity: severity, $event: e.id, $at: new Date().toISOString() } }], false);
}
const e = msg.payload;
if (!e || typeof e !== "object" || typeof e.id !== "string") return null;
if (st.seen.has(e.id)) {
    st.dups += 1;
    return null;
}
st.seen.add(e.id);
const attrs = e.attrs || {};
const t = Date.parse(e.ts) / 1000;
switch (e.kind) {
    case "smoke.alarm": {
        const b = attrs.building || e.device_id;
        const s = st.smoke.get(b);
        if (!s) {
            st.smoke.set(b, { at: t, device: e.device_id, verified: false });
            alert("fire.smoke", b, "high", e);
        } else if (!s.verified && s.device !== e.device_id && Math.abs(t - s.at) <= 120) {
            s.verified = true;
            alert("fire.smoke", b, "critical", e);
        }
        break;
    }
    case "button.sos": {
        const k = "sos/" + e.device_id;
        if (!st.open.has(k)) {
            st.open.add(k);
            alert("elderly.sos", e.device_id, "critical", e);
        }
        break;
    }
    case "bin.fill": {
        const k = "bin/" + e.device_id;
        if (attrs.level >= 90) {
            if (!st.open.has(k)) {
                st.open.add(k);
                alert("bin.full", e.device_id, "low", e);
            }
        } else st.open.delete(k);
        break;
    }
    case "access.denied": {
        const k = "gate/" + e.device_id;
        const times = (st.denials.get(e.device_id) || []).filter((x) => t - x < 600);
        times.push(t);
        st.denials.set(e.device_id, times);
        if (times.length >= 5 && !st.open.has(k)) {
            st.open.add(k);
            alert("access.forced", e.device_id, "high", e);
        } else if (times.length === 1) st.open.delete(k);
        break;
    }
    case "crowd.count": {
        const k = "crowd/" + e.device_id;
        if (attrs.count >= 200) {
            if (!st.open.has(k)) {
                st.open.add(k);
                alert("crowd.dense", e.device_id, "medium", e);
            }
        } else st.open.delete(k);
        break;
    }
}
st.pending.push("(" + q(e.id) + "," + q(e.kind) + "," + q(e.ts) + "," + q(JSON.stringify(e)) + ")");
if (st.pending.length >= BATCH) flush();
else if (!st.timer) st.timer = setTimeout(flush, FLUSH_MS);
return null;
