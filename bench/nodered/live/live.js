// Node-RED peer of bench/live.py: MQTT in -> five rules -> SQLite out, on the broker the
// benchmark gives it. The runtime is embedded (require("node-red")) with the settings of
// ../settings.js: no editor, no admin API, no port of its own; the flow is built here
// (the broker, topic and database are the run's) and written to the user dir.
// Flow: "mqtt in" (QoS 1, payload parsed as JSON) -> function "rules" (rules.js) ->
// sqlite (multi-row INSERT of events) and sqlite (prepared INSERT of alerts), one
// database (node-red-node-sqlite); an inject at start sets WAL + synchronous=FULL (as
// cityeye's SQLite) and creates the tables. Prints "ready" once started; runs until
// SIGTERM. bench/live.py counts the rows of "events" to measure the flow end to end.
// Usage: node live.js --broker HOST:PORT --topic FILTER --db FILE --user-dir DIR
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");

function args(argv) {
    const out = {};
    for (let i = 2; i < argv.length; i += 2) {
        out[argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = argv[i + 1];
    }
    for (const need of ["broker", "topic", "db", "userDir"]) {
        if (!out[need]) throw new Error(`--${need} is required`);
    }
    return out;
}

function rulesNode(x, y, wires) {
    const text = fs.readFileSync(path.join(__dirname, "rules.js"), "utf8");
    const body = text.indexOf("// @func\n");
    return {
        id: "rules", type: "function", z: "live", name: "rules", outputs: 2, timeout: 0, noerr: 0,
        func: text.slice(body + "// @func\n".length), initialize: "", finalize: "", libs: [],
        x, y, wires,
    };
}

function flows(opt) {
    const [host, port] = opt.broker.split(":");
    const schema =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" +
        " CREATE TABLE IF NOT EXISTS events(id TEXT PRIMARY KEY, kind TEXT, ts TEXT, body TEXT);" +
        " CREATE TABLE IF NOT EXISTS alerts(seq INTEGER PRIMARY KEY, rule TEXT, key TEXT," +
        " severity TEXT, event_id TEXT, at TEXT);";
    return [
        { id: "live", type: "tab", label: "cityeye bench: live peer", disabled: false },
        {
            id: "broker", type: "mqtt-broker", name: "bench", broker: host, port,
            clientid: "", autoConnect: true, usetls: false, protocolVersion: "4", keepalive: "60",
            cleansession: true, autoUnsubscribe: true, birthTopic: "", closeTopic: "", willTopic: "",
        },
        { id: "db", type: "sqlitedb", db: opt.db, mode: "RWC" },
        {
            id: "init", type: "inject", z: "live", name: "schema", props: [{ p: "topic", vt: "str" }],
            topic: schema, once: true, onceDelay: 0.1, repeat: "", x: 100, y: 40, wires: [["schema"]],
        },
        { id: "schema", type: "sqlite", z: "live", mydb: "db", sqlquery: "batch", sql: "", name: "schema", x: 300, y: 40, wires: [[]] },
        {
            id: "in", type: "mqtt in", z: "live", name: "events", topic: opt.topic, qos: "1",
            datatype: "json", broker: "broker", nl: false, rap: true, rh: 0, inputs: 0, x: 100, y: 120,
            wires: [["rules"]],
        },
        rulesNode(300, 120, [["store"], ["alerts"]]),
        { id: "store", type: "sqlite", z: "live", mydb: "db", sqlquery: "batch", sql: "", name: "events", x: 500, y: 100, wires: [[]] },
        {
            id: "alerts", type: "sqlite", z: "live", mydb: "db", sqlquery: "prepared", name: "alerts",
            sql: "INSERT INTO alerts(rule, key, severity, event_id, at) VALUES ($rule, $key, $severity, $event, $at)",
            x: 500, y: 140, wires: [[]],
        },
    ];
}

async function main() {
    const opt = args(process.argv);
    fs.mkdirSync(opt.userDir, { recursive: true });
    fs.writeFileSync(path.join(opt.userDir, "flows.json"), JSON.stringify(flows(opt), null, 1));
    const RED = require("node-red");
    const settings = Object.assign({}, require("../settings.js"), { userDir: opt.userDir, flowFile: "flows.json" });
    RED.init(http.createServer(), settings);
    await RED.start();
    process.stdout.write(`ready ${require("node-red/package.json").version}\n`);
    const stop = async () => {
        await RED.stop();
        process.exit(0);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
