#!/usr/bin/env node
// A native-solc-compatible front end for the pinned solcjs compiler.
//
// Python tools (py-solc-x, ape-solidity, crytic-compile/slither) expect a native `solc`: `--version` in the
// native format and `--standard-json` reading stdin and printing pure JSON. The solcjs CLI prints extra
// lines, rejects `--allow-paths` and cannot resolve sources given as `urls`; this front end uses the solcjs
// JavaScript API instead, with an import callback honouring --base-path, --include-path and remappings.
"use strict";

const fs = require("fs");
const path = require("path");

const projectRoot = path.resolve(__dirname, "..");
const solc = require(path.join(projectRoot, "node_modules", "solc"));

function fail(message) {
  process.stderr.write(`solc: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { basePath: null, includePaths: [], allowPaths: [], standardJson: false, version: false, rest: [] };
  const takesValue = new Set(["--base-path", "--include-path", "--allow-paths"]);
  for (let i = 0; i < argv.length; i += 1) {
    let arg = argv[i];
    let value = null;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    } else if (takesValue.has(arg)) {
      if (i + 1 >= argv.length) fail(`option ${arg} needs a value`);
      value = argv[++i];
    }
    switch (arg) {
      case "--version":
        options.version = true;
        break;
      case "--standard-json":
        options.standardJson = true;
        break;
      case "--base-path":
        options.basePath = value;
        break;
      case "--include-path":
        options.includePaths.push(value);
        break;
      case "--allow-paths":
        options.allowPaths.push(...value.split(","));
        break;
      case "-":
        break;
      default:
        options.rest.push(arg);
    }
  }
  return options;
}

function makeImportCallback(options) {
  const roots = [];
  if (options.basePath) roots.push(path.resolve(options.basePath));
  for (const p of options.includePaths) roots.push(path.resolve(p));
  roots.push(process.cwd());
  // OpenZeppelin and the other Node packages resolve from the project's own node_modules last.
  roots.push(path.join(projectRoot, "node_modules"));
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
    for (const candidate of candidates) {
      try {
        return { contents: fs.readFileSync(candidate, "utf8") };
      } catch (err) {
        if (err.code !== "ENOENT" && err.code !== "ENOTDIR" && err.code !== "EISDIR") {
          return { error: `cannot read ${candidate}: ${err.message}` };
        }
      }
    }
    return { error: `file not found: ${importPath} (looked in ${roots.join(", ")})` };
  };
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.version) {
    // The native format: py-solc-x and crytic-compile parse "Version: X.Y.Z+commit...".
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!options.standardJson) {
    fail(`only --version and --standard-json are supported (got: ${options.rest.join(" ") || "no mode"})`);
  }
  if (options.rest.length > 0) fail(`unsupported arguments: ${options.rest.join(" ")}`);
  const input = fs.readFileSync(0, "utf8");
  try {
    JSON.parse(input);
  } catch (err) {
    fail(`standard JSON input is not valid JSON: ${err.message}`);
  }
  const output = solc.compile(input, { import: makeImportCallback(options) });
  process.stdout.write(output);
}

main();
