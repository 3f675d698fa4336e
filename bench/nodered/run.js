// Runs the benchmark flow headless and feeds it the JSONL stream.
//
// Node-RED is embedded (require("node-red")): RED.init with an HTTP server that never
// listens, editor and admin API off, so nothing but the flow runs. Each line of the
// stream is handed as msg.payload (a string) to the flow's first node, the json node
// "parse", through node.receive(): what Node-RED then does — JSON parsing, message
// routing between nodes, the five rules — is what is measured, not a socket or an
// HTTP server. Lines go in batches of BATCH with a turn of the event loop between
// batches (Node-RED delivers messages between nodes asynchronously, with
// setImmediate), and no more than 4 batches ahead of the ingest node, which keeps
// the number of messages in flight bounded.
// The flow measures its own elapsed time (first message in the ingest node to the
// last "eos" in the alerts node) and calls bench.done(result).
//
// Usage: node run.js --stream FILE --world FILE --user-dir DIR --result FILE
//                    [--flows FILE] [--batch N] [--progress N]
// Prints "progress <lines>" lines on stdout while feeding, then "done".
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const { performance } = require("perf_hooks");

function args(argv) {
    const out = { flows: path.join(__dirname, "flows.json"), batch: 1000, progress: 100000 };
    for (let i = 2; i < argv.length; i += 2) {
        const name = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
        out[name] = argv[i + 1];
    }
    for (const need of ["stream", "world", "userDir", "result"]) {
        if (!out[need]) throw new Error(`--${need} is required`);
    }
    out.batch = Number(out.batch);
    out.progress = Number(out.progress);
    return out;
}

function loadWorld(file) {
    const raw = JSON.parse(fs.readFileSync(file, "utf8"));
    const elderlyIndex = new Map();
    raw.elderly.forEach((id, i) => elderlyIndex.set(id, i));
    return {
        subjectOf: new Map(Object.entries(raw.subjectOf)),
        buildingOf: new Map(Object.entries(raw.buildingOf)),
        elderly: raw.elderly,
        elderlyIndex,
    };
}

function peakRssKiB() {
    const status = fs.readFileSync("/proc/self/status", "utf8");
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : null;
}

async function main() {
    const opt = args(process.argv);
    const loadStart = performance.now();
    const world = loadWorld(opt.world);
    fs.mkdirSync(opt.userDir, { recursive: true });
    fs.copyFileSync(opt.flows, path.join(opt.userDir, "flows.json"));
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const bench = {
        world,
        fs,
        now: () => performance.now(),
        flowResultPath: path.join(opt.userDir, "result-flow.json"),
        done: (result) => done(result),
        ingested: 0,
    };
    const RED = require("node-red");
    const settings = Object.assign({}, require("./settings.js"), {
        userDir: opt.userDir,
        flowFile: "flows.json",
        functionGlobalContext: { bench },
    });
    RED.init(http.createServer(), settings);
    await RED.start();
    let parse = null;
    for (let i = 0; i < 200 && !(parse = RED.nodes.getNode("parse")); i++) {
        await new Promise((r) => setTimeout(r, 50));
    }
    if (!parse) throw new Error("the flow did not start (no node 'parse')");
    // let function nodes finish their On Start code before the first message
    await new Promise((r) => setTimeout(r, 200));
    const rssBefore = process.memoryUsage().rss;
    const loadMs = performance.now() - loadStart;

    const feedStart = performance.now();
    let lines = 0;
    let rest = "";
    let inBatch = 0;
    let peakRss = rssBefore;
    const stream = fs.createReadStream(opt.stream, { encoding: "utf8", highWaterMark: 1 << 20 });
    for await (const chunk of stream) {
        const text = rest + chunk;
        let start = 0;
        let nl;
        while ((nl = text.indexOf("\n", start)) >= 0) {
            if (nl > start) {
                parse.receive({ payload: text.slice(start, nl) });
                lines += 1;
                if (++inBatch === opt.batch) {
                    inBatch = 0;
                    do await new Promise((r) => setImmediate(r));
                    while (lines - bench.ingested > 4 * opt.batch);
                    if (lines % opt.progress < opt.batch) {
                        process.stdout.write(`progress ${lines}\n`);
                        const rss = process.memoryUsage().rss;
                        if (rss > peakRss) peakRss = rss;
                    }
                }
            }
            start = nl + 1;
        }
        rest = text.slice(start);
    }
    if (rest.length > 0) {
        parse.receive({ payload: rest });
        lines += 1;
    }
    parse.receive({ topic: "eos", payload: "{}" });
    const result = await finished;
    const wallMs = performance.now() - feedStart;
    process.stdout.write(`progress ${lines}\n`);
    const redPkg = require("node-red/package.json");
    const out = Object.assign({}, result, {
        lines,
        runner_wall_ms: wallMs,
        load_ms: loadMs,
        rss_before_feed_kib: Math.round(rssBefore / 1024),
        rss_peak_sampled_kib: Math.round(peakRss / 1024),
        vm_hwm_kib: peakRssKiB(),
        node_version: process.version,
        node_red_version: redPkg.version,
        batch: opt.batch,
    });
    fs.writeFileSync(opt.result, JSON.stringify(out, null, 2));
    process.stdout.write("done\n");
    await RED.stop();
    process.exit(0);
}

main().catch((err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
});
