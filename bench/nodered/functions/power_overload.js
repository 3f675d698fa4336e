// Rule power.overload (SCENARIOS.md): per meter (device), fires (high) when the
// current is > 1.2 x rated in every reading over >= 5 min (at least two readings
// 300 s apart), or on any leakage >= 30 mA; while open, further such readings join it.
// It resolves when the current has been <= rated for >= 5 min (two readings 300 s
// apart, every reading in between <= rated). Both are decided on readings, so this
// rule needs no timer.
// @initialize
const SPAN = 300;
const st = { meters: new Map(), opened: 0, updated: 0, resolved: 0, open: 0 };

function change(kind, key, ts) {
    return { topic: "alert", payload: { rule: "power.overload", change: kind, key: key, ts: ts, severity: "high" } };
}

st.onReading = function (msg) {
    const ev = msg.payload;
    const key = ev.device_id;
    const attrs = ev.attrs;
    if (key === undefined || attrs === undefined) return null;
    const ts = msg.ts;
    let m = st.meters.get(key);
    if (m === undefined) {
        m = { overSince: null, underSince: null, open: false };
        st.meters.set(key, m);
    }
    const current = attrs.current_a;
    const rated = attrs.rated_a;
    let fire = false;
    if (current > 1.2 * rated) {
        if (m.overSince === null) m.overSince = ts;
        else if (ts - m.overSince >= SPAN) fire = true;
    } else {
        m.overSince = null;
    }
    if (attrs.leakage_ma >= 30) fire = true;
    if (current <= rated) {
        if (m.underSince === null) m.underSince = ts;
    } else {
        m.underSince = null;
    }
    if (fire) {
        if (m.open) return null; // joins the open alert
        m.open = true;
        st.opened += 1;
        st.open += 1;
        return change("opened", key, ts);
    }
    if (m.open && m.underSince !== null && ts - m.underSince >= SPAN) {
        m.open = false;
        st.resolved += 1;
        st.open -= 1;
        return change("resolved", key, ts);
    }
    return null;
};

st.onEnd = function (msg) {
    return {
        topic: "eos",
        ingest: msg.ingest,
        payload: { rule: "power.overload", opened: st.opened, updated: st.updated, resolved: st.resolved, open: st.open, high: st.open, critical: 0 },
    };
};

context.set("st", st);
// @func
const st = context.get("st");
if (msg.topic === "meter.reading") return st.onReading(msg);
if (msg.topic === "eos") return st.onEnd(msg);
return null;
