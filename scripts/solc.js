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

function fail(message) {
  process.stderr.write(`solc: ${message}\n`);
  process.exit(1);
}

function loadCompiler() {
  const location = path.join(projectRoot, "node_modules", "solc");
  try {
    return require(location);
  } catch (err) {
    if (err.code === "MODULE_NOT_FOUND") fail(`the npm package solc is not installed in ${location} (run: npm ci)`);
    throw err;
  }
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
        // Accepted because py-solc-x and crytic-compile always pass it; it only narrows what native solc
        // may read, and every path this front end reads comes from its caller or the project itself.
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
  // Then the project itself, so that remapped names like node_modules/@openzeppelin/... resolve whatever the
  // caller's base path (ape compiles from a temporary copy), and bare @openzeppelin/... imports last.
  roots.push(projectRoot);
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

function readInput(options) {
  // Native solc reads the standard JSON from a file when one is named, from stdin otherwise.
  const source = options.rest.length === 1 ? options.rest[0] : 0;
  try {
    return fs.readFileSync(source, "utf8");
  } catch (err) {
    return fail(`cannot read standard JSON input from ${source === 0 ? "stdin" : source}: ${err.message}`);
  }
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.version) {
    // The native format: py-solc-x and crytic-compile parse "Version: X.Y.Z+commit...".
    const solc = loadCompiler();
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!options.standardJson) {
    fail(`only --version and --standard-json are supported (got: ${options.rest.join(" ") || "no mode"})`);
  }
  const remappings = options.rest.filter((arg) => !arg.startsWith("-") && arg.includes("="));
  if (remappings.length > 0) {
    fail(`import remappings are not accepted on the command line in standard JSON mode (got: ${remappings.join(" ")}); put them under settings.remappings in the JSON input`);
  }
  const unsupported = options.rest.filter((arg) => arg.startsWith("-"));
  if (unsupported.length > 0 || options.rest.length > 1) {
    fail(`unsupported arguments in standard JSON mode: ${(unsupported.length > 0 ? unsupported : options.rest).join(" ")}`);
  }
  const input = readInput(options);
  try {
    JSON.parse(input);
  } catch (err) {
    fail(`standard JSON input is not valid JSON: ${err.message}`);
  }
  const solc = loadCompiler();
  const output = solc.compile(input, { import: makeImportCallback(options) });
  process.stdout.write(output);
}

main();
