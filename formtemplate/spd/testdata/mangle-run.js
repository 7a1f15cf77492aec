// Runs the seed's collector Mangle function (mangle.js, copied verbatim
// from the seed's form) on the JSON form answers given as argv[2], and
// prints the generated service config (svc_envfile) on stdout.
// Usage: node mangle-run.js '{"npods":32,"svcname":"spdsvc01",...}'
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const src = fs.readFileSync(path.join(__dirname, "mangle.js"), "utf8");
// The collector evaluates the function in sloppy mode (it assigns the
// undeclared global "ret"): run it in a fresh sloppy-mode context.
const ctx = vm.createContext({});
const mangle = vm.runInContext("(" + src + ")", ctx);
const data = JSON.parse(process.argv[2]);
const out = mangle(data);
process.stdout.write(out.svc_envfile);
