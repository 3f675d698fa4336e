// Rule elderly.inactive (SCENARIOS.md): per subject tagged elderly_alone, signs of life
// are door.open, motion.detected, water.flow (subject = the event's, else the device's).
// No sign of life for 24 h -> alert (high), critical at 48 h; a sign of life resolves it.
// The timer runs from the last sign, or from the first event of the stream for a
// subject never seen: every tagged subject holds a timer from the first message on.
// Timers are on event time: they fire on "tick" (the ingest node's clock), or, for
// the subject's own next sign of life, just before it is applied (ts order).
// Timers live in a min-heap of numbers deadline * 2^22 + subject index (exact in a
// double up to 4,194,304 subjects); a stale entry (the subject was seen since) is
// skipped when it comes up.
// @initialize
const DAY = 86400;
const SCALE = 4194304;
const bench = global.get("bench");
const world = bench.world;
const n = world.elderly.length;
if (n >= SCALE) throw new Error("too many elderly subjects for the timer encoding");

function hpush(heap, x) {
    let i = heap.length;
    heap.push(x);
    while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p] <= x) break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = x;
}
function hpop(heap) {
    const top = heap[0];
    const last = heap.pop();
    const len = heap.length;
    if (len > 0) {
        let i = 0;
        for (;;) {
            let c = 2 * i + 1;
            if (c >= len) break;
            if (c + 1 < len && heap[c + 1] < heap[c]) c += 1;
            if (heap[c] >= last) break;
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = last;
    }
    return top;
}

const st = {
    armed: false,
    last: new Float64Array(n),
    deadline: new Float64Array(n),
    stage: new Uint8Array(n), // 0 quiet, 1 alert open (high), 2 alert open (critical)
    heap: [],
    opened: 0,
    updated: 0,
    resolved: 0,
    maxTimers: 0,
};

function arm() {
    const t0 = flow.get("firstTs");
    const d = t0 + DAY;
    const heap = st.heap;
    for (let i = 0; i < n; i++) {
        st.last[i] = t0;
        st.deadline[i] = d;
        heap.push(d * SCALE + i); // equal deadlines, ascending index: already a heap
    }
    st.armed = true;
    st.maxTimers = n;
}

function alert(change, i, at, severity) {
    return {
        topic: "alert",
        payload: { rule: "elderly.inactive", change: change, key: world.elderly[i], ts: at, severity: severity },
    };
}

// the timer of subject i is due at deadline[i]
function fire(i, out) {
    const at = st.deadline[i];
    if (st.stage[i] === 0) {
        st.stage[i] = 1;
        st.opened += 1;
        out.push(alert("opened", i, at, "high"));
        st.deadline[i] = st.last[i] + 2 * DAY;
        hpush(st.heap, st.deadline[i] * SCALE + i);
    } else if (st.stage[i] === 1) {
        st.stage[i] = 2;
        st.updated += 1;
        out.push(alert("updated", i, at, "critical"));
        st.deadline[i] = Infinity;
    }
}

st.onSign = function (msg) {
    const ev = msg.payload;
    const subject = ev.subject || world.subjectOf.get(ev.device_id);
    if (subject === undefined) return null;
    const i = world.elderlyIndex.get(subject);
    if (i === undefined) return null;
    if (!st.armed) arm();
    const ts = msg.ts;
    const out = [];
    while (st.deadline[i] <= ts) fire(i, out);
    if (st.stage[i] !== 0) {
        st.stage[i] = 0;
        st.resolved += 1;
        out.push(alert("resolved", i, ts, null));
    }
    st.last[i] = ts;
    st.deadline[i] = ts + DAY;
    hpush(st.heap, st.deadline[i] * SCALE + i);
    return out.length > 0 ? [out] : null;
};

st.onTick = function (clock) {
    if (!st.armed) arm();
    const heap = st.heap;
    const out = [];
    const limit = (clock + 1) * SCALE; // every entry with deadline <= clock
    while (heap.length > 0 && heap[0] < limit) {
        const x = hpop(heap);
        const i = x % SCALE;
        const d = (x - i) / SCALE;
        if (st.deadline[i] === d) fire(i, out);
    }
    return out.length > 0 ? [out] : null;
};

st.onEnd = function (msg) {
    let open = 0;
    let critical = 0;
    for (let i = 0; i < n; i++) {
        if (st.stage[i] !== 0) open += 1;
        if (st.stage[i] === 2) critical += 1;
    }
    return {
        topic: "eos",
        ingest: msg.ingest,
        payload: {
            rule: "elderly.inactive",
            opened: st.opened,
            updated: st.updated,
            resolved: st.resolved,
            open: open,
            critical: critical,
            high: open - critical,
            timers: st.maxTimers,
        },
    };
};

context.set("st", st);
// @func
const st = context.get("st");
if (msg.topic === "tick") return st.onTick(msg.clock);
if (msg.topic === "eos") return st.onEnd(msg);
return st.onSign(msg);
