// OpenAttestation's own wrapping of a batch, timed, for `scripts/bench.py` to set beside credreg's.
//
//   node scripts/bench_oa_wrap.js <data.jsonl> <out-dir>
//
// Reads one unwrapped OpenAttestation v2 data object per line (the very objects credreg wraps), wraps them
// as one batch with @govtechsg/open-attestation's wrapDocuments (salts, field hashes, target hashes, merkle
// tree, proofs), writes one pretty-printed JSON file per document as OpenAttestation's CLI does, and prints
// {"count", "wrap_seconds", "write_seconds", "merkle_root"} as JSON on stdout.
"use strict";

const fs = require("fs");
const path = require("path");
const { wrapDocuments } = require("@govtechsg/open-attestation");

function seconds(since) {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

function main() {
  const [input, outDir] = process.argv.slice(2);
  if (!input || !outDir) {
    process.stderr.write("usage: node bench_oa_wrap.js <data.jsonl> <out-dir>\n");
    process.exit(2);
  }
  const datas = fs
    .readFileSync(input, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
  fs.mkdirSync(outDir, { recursive: true });

  const started = process.hrtime.bigint();
  const wrapped = wrapDocuments(datas);
  const wrapSeconds = seconds(started);

  const writing = process.hrtime.bigint();
  wrapped.forEach((document, i) => {
    fs.writeFileSync(path.join(outDir, `${i}.json`), JSON.stringify(document, null, 2) + "\n");
  });
  const writeSeconds = seconds(writing);

  process.stdout.write(
    JSON.stringify({
      count: wrapped.length,
      wrap_seconds: wrapSeconds,
      write_seconds: writeSeconds,
      merkle_root: wrapped.length ? wrapped[0].signature.merkleRoot : null,
    }) + "\n",
  );
}

main();
