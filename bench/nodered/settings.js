// Node-RED settings for the benchmark: runtime only. No editor, no admin API, no HTTP
// nodes, no credentials, no palette installs, no telemetry, no network. run.js adds
// userDir, flowFile and functionGlobalContext (the world, a clock, fs, the callbacks).
// Usable on its own too: `npx node-red -u <dir> -s settings.js flows.json` starts the
// same runtime (without a stream to feed, the flow then just waits).
module.exports = {
    flowFile: "flows.json",
    flowFilePretty: true,
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    uiHost: "127.0.0.1",
    logging: {
        console: { level: "warn", metrics: false, audit: false },
    },
    externalModules: {
        autoInstall: false,
        palette: { allowInstall: false, allowUpload: false },
        modules: { allowInstall: false },
    },
    functionExternalModules: false,
    functionTimeout: 0,
    telemetry: { enabled: false },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    editorTheme: { projects: { enabled: false } },
    contextStorage: { default: { module: "memory" } },
    exportGlobalContextKeys: false,
};
