// Rule access.forced (SCENARIOS.md): per door (device), >= 5 access.denied within
// 10 min raise an alert (medium); while open, further denials join it; it resolves
// when there has been none for 30 min (on event time: on "tick", or just before the
// door's next denial). A window keeps each door's denials of the last 600 s.
// @initialize
const WINDOW = 600;
const QUIET = 1800;
const THRESHOLD = 5;
const st = { windows: new Map(), open: new Map(), opened: 0, updated: 0, resolved: 0 };

function change(kind, key, ts) {
    return { topic: "alert", payload: { rule: "access.forced", change: kind, key: key, ts: ts, severity: "medium" } };
}

st.onDenied = function (msg) {
    const key = msg.payload.device_id;
    if (key === undefined) return null;
    const ts = msg.ts;
    const out = [];
    let a = st.open.get(key);
    if (a !== undefined && ts - a.last >= QUIET) {
        st.open.delete(key);
        st.resolved += 1;
        out.push(change("resolved", key, a.last + QUIET));
        a = undefined;
    }
    let w = st.windows.get(key);
    if (w === undefined) {
        w = [];
        st.windows.set(key, w);
    }
    while (w.length > 0 && ts - w[0] > WINDOW) w.shift();
    w.push(ts);
    if (a !== undefined) {
        a.last = ts;
        a.count += 1;
    } else if (w.length >= THRESHOLD) {
        st.open.set(key, { last: ts, count: w.length });
        st.opened += 1;
        out.push(change("opened", key, ts));
    }
    return out.length > 0 ? [out] : null;
};

st.onTick = function (clock) {
    const out = [];
    for (const [key, a] of st.open) {
        if (a.last + QUIET <= clock) {
            st.open.delete(key);
            st.resolved += 1;
            out.push(change("resolved", key, a.last + QUIET));
        }
    }
    return out.length > 0 ? [out] : null;
};

st.onEnd = function (msg) {
    return {
        topic: "eos",
        ingest: msg.ingest,
        payload: { rule: "access.forced", opened: st.opened, updated: st.updated, resolved: st.resolved, open: st.open.size, high: 0, critical: 0 },
    };
};

context.set("st", st);
// @func
const st = context.get("st");
if (msg.topic === "tick") return st.onTick(msg.clock);
if (msg.topic === "eos") return st.onEnd(msg);
return st.onDenied(msg);
