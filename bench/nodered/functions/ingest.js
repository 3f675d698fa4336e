// Node "ingest": what cityeye's engine does before any rule sees an event.
//   - duplicates: an id already seen is dropped and counted (SCENARIOS.md "Duplicates");
//   - event time: the clock is the largest ts seen minus the lateness (600 s); events
//     wait in a min-heap and are released in (ts, arrival) order once the clock has
//     passed them, so the rules see the stream in ts order, as the engine evaluates it;
//   - lateness (simplified): an event older than the clock on arrival is counted as
//     late and dropped; the engine instead lets it resolve (never raise) an alert.
//     The benchmark stream has no such event;
//   - kinds no rule of the five reads still move the clock but are not buffered;
//   - every 60 s of event time a {topic: "tick", clock} message follows the events it
//     released, so timers (absence, "no detection for 60 min") fire on event time;
//   - "eos" (end of stream): release everything, advance the clock to the largest ts
//     seen, send a last tick, then "eos" with the counters.
// Messages are reused and returned as arrays, so Node-RED sends them without cloning.
// @initialize
const LATENESS = 600;
const TICK = 60;
const READS = new Set([
    "elevator.ebike_detected",
    "smoke.alarm",
    "temperature.reading",
    "meter.reading",
    "door.open",
    "motion.detected",
    "water.flow",
    "access.denied",
]);
const bench = global.get("bench");

// binary min-heap of messages ordered by (msg.ts, msg.seq)
function before(a, b) {
    return a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq);
}
function push(heap, msg) {
    let i = heap.length;
    heap.push(msg);
    while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!before(msg, heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = msg;
}
function pop(heap) {
    const top = heap[0];
    const last = heap.pop();
    const n = heap.length;
    if (n > 0) {
        let i = 0;
        for (;;) {
            let child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && before(heap[child + 1], heap[child])) child += 1;
            if (!before(heap[child], last)) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = last;
    }
    return top;
}

const st = {
    seen: new Set(),
    heap: [],
    seq: 0,
    maxTs: -Infinity,
    nextTick: -Infinity,
    events: 0,
    duplicates: 0,
    late: 0,
    first: true,
};

function release(clock, out) {
    const heap = st.heap;
    while (heap.length > 0 && heap[0].ts <= clock) out.push(pop(heap));
    if (clock >= st.nextTick) {
        out.push({ topic: "tick", clock: clock });
        st.nextTick = (Math.floor(clock / TICK) + 1) * TICK;
    }
}

st.onEvent = function (msg) {
    const ev = msg.payload;
    const ts = Date.parse(ev.ts) / 1000;
    if (st.first) {
        st.first = false;
        flow.set("t0", bench.now());
        flow.set("firstTs", ts);
    }
    st.events += 1;
    if (st.seen.has(ev.id)) {
        st.duplicates += 1;
        return null;
    }
    st.seen.add(ev.id);
    if (ts > st.maxTs) st.maxTs = ts;
    const clock = st.maxTs - LATENESS;
    if (ts < clock) {
        st.late += 1;
        return null;
    }
    if (READS.has(ev.kind)) {
        msg.topic = ev.kind;
        msg.ts = ts;
        msg.seq = st.seq++;
        push(st.heap, msg);
    }
    const out = [];
    release(clock, out);
    return out.length > 0 ? [out] : null;
};

st.onEnd = function () {
    const out = [];
    st.nextTick = -Infinity;
    release(st.maxTs, out);
    out.push({
        topic: "eos",
        ingest: { events: st.events, duplicates: st.duplicates, late: st.late, maxTs: st.maxTs },
    });
    return [out];
};

context.set("st", st);
// @func
const st = context.get("st");
return msg.topic === "eos" ? st.onEnd() : st.onEvent(msg);
