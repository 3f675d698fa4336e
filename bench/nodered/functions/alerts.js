// Node "alerts": where a real flow would hand alerts to MQTT or a dashboard, the
// benchmark counts the changes per rule. When all five rules have passed "eos" on,
// it measures the elapsed time from the first message the ingest node received,
// writes the result JSON and tells the runner (bench.done).
// @initialize
const RULES = ["elevator.ebike", "fire.smoke", "power.overload", "elderly.inactive", "access.forced"];
const bench = global.get("bench");
const st = { bench: bench, changes: {}, summaries: {}, ingest: null, alerts: 0 };
for (const r of RULES) st.changes[r] = { opened: 0, updated: 0, resolved: 0 };
context.set("st", st);
// @func
const st = context.get("st");
if (msg.topic === "alert") {
    st.changes[msg.payload.rule][msg.payload.change] += 1;
    st.alerts += 1;
    return null;
}
if (msg.topic === "eos") {
    st.summaries[msg.payload.rule] = msg.payload;
    st.ingest = msg.ingest;
    if (Object.keys(st.summaries).length === 5) {
        const bench = st.bench;
        const elapsedMs = bench.now() - flow.get("t0");
        const result = {
            events: st.ingest.events,
            duplicates: st.ingest.duplicates,
            late: st.ingest.late,
            max_ts: st.ingest.maxTs,
            elapsed_ms: elapsedMs,
            events_per_s: st.ingest.events / (elapsedMs / 1000),
            changes: st.changes,
            rules: st.summaries,
        };
        bench.fs.writeFileSync(bench.flowResultPath, JSON.stringify(result, null, 2));
        bench.done(result);
    }
}
return null;
