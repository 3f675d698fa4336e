// Builds flows.json from functions/*.js, so the rules can be read (and reviewed) as
// JavaScript rather than as strings inside JSON. Each functions/NAME.js holds a
// header comment (the node's description), then "// @initialize" (the function
// node's On Start code) and "// @func" (its On Message code).
// Usage: node build-flows.js [OUT]   (default: flows.json beside this file)
"use strict";
const fs = require("fs");
const path = require("path");

const TAB = "cityeye-bench";

function fn(id, name, file, x, y, wires) {
    // wires: node ids of the single output, or an array of arrays, one per output
    const outputs = wires.length > 0 && Array.isArray(wires[0]) ? wires : [wires];
    const text = fs.readFileSync(path.join(__dirname, "functions", file), "utf8");
    const ini = text.indexOf("// @initialize\n");
    const body = text.indexOf("// @func\n");
    if (ini < 0 || body < ini) throw new Error(`${file}: needs // @initialize then // @func`);
    const info = text
        .slice(0, ini)
        .split("\n")
        .map((line) => line.replace(/^\/\/ ?/, ""))
        .join("\n")
        .trim();
    return {
        id,
        type: "function",
        z: TAB,
        name,
        func: text.slice(body + "// @func\n".length).trim() + "\n",
        outputs: outputs.length,
        timeout: 0,
        noerr: 0,
        initialize: text.slice(ini + "// @initialize\n".length, body).trim() + "\n",
        finalize: "",
        libs: [],
        info,
        x,
        y,
        wires: outputs,
    };
}

const RULES = ["elevator", "fire", "power", "elderly", "access"];

const flows = [
    {
        id: TAB,
        type: "tab",
        label: "cityeye bench: five rules",
        disabled: false,
        info:
            "The five normative rules of cityeye's SCENARIOS.md (elevator.ebike, fire.smoke, " +
            "power.overload, elderly.inactive, access.forced) for bench/engine.py. run.js hands " +
            "each JSON line of the benchmark stream to the 'parse' node.",
    },
    {
        id: "parse",
        type: "json",
        z: TAB,
        name: "parse",
        property: "payload",
        action: "obj",
        pretty: false,
        x: 110,
        y: 200,
        wires: [["ingest"]],
    },
    fn(
        "ingest",
        "ingest: dedup, event time, route",
        "ingest.js",
        400,
        200,
        RULES.map((r) => [r])
    ),
    fn("elevator", "elevator.ebike", "elevator_ebike.js", 760, 80, ["alerts"]),
    fn("fire", "fire.smoke", "fire_smoke.js", 760, 140, ["alerts"]),
    fn("power", "power.overload", "power_overload.js", 760, 200, ["alerts"]),
    fn("elderly", "elderly.inactive", "elderly_inactive.js", 760, 260, ["alerts"]),
    fn("access", "access.forced", "access_forced.js", 760, 320, ["alerts"]),
    fn("alerts", "alerts: count, finish", "alerts.js", 980, 200, []),
];

const out = process.argv[2] || path.join(__dirname, "flows.json");
const text = JSON.stringify(flows, null, 4) + "\n";
if (!fs.existsSync(out) || fs.readFileSync(out, "utf8") !== text) fs.writeFileSync(out, text);
console.log(out);
