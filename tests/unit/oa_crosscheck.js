// Runs OpenAttestation's own JavaScript code on what credreg produced, so that any drift in our salting,
// hashing, merkle trees or disclosure fails a test. Reads {"requests": [request, ...]} on stdin and
// writes {"answers": [answer, ...]} on stdout (one Node.js start serves many checks). Request fields
// (all optional):
//   documents:  wrapped documents (one batch) to check with OpenAttestation's verifiers and tree
//   rewrap:     also re-wrap the documents' unsalted data with OpenAttestation's wrapDocuments, fed the
//               very salts found in them, and report its signatures (needs schema-valid data)
//   obfuscate:  [{index, fields}]: run OpenAttestation's obfuscate on documents[index]
//   disclosed:  documents disclosed by credreg, to verify
//   strings:    strings to pass through JSON.stringify
//   numbers:    integers (given as decimal strings) to pass through String(Number(x))
//   leaves:     hex leaves for a bare MerkleTree: its root and each leaf's proof
"use strict";

const path = require("path");

// OpenAttestation draws salts from uuid's v4(); swap it for a queue before OpenAttestation loads.
const saltModule = require.resolve("@govtechsg/open-attestation/dist/cjs/2.0/salt.js");
const uuidPath = require.resolve("uuid", { paths: [path.dirname(saltModule)] });
const realUuid = require(uuidPath);
const saltQueue = [];
require.cache[uuidPath].exports = Object.assign({}, realUuid, {
  v4: () => {
    if (saltQueue.length === 0) throw new Error("crosscheck: salt queue ran out");
    return saltQueue.shift();
  },
});

const oa = require("@govtechsg/open-attestation");
const { verificationBuilder, openAttestationHash, isValid } = require("@govtechsg/oa-verify");

function collectSalts(value, out) {
  // The same traversal as OpenAttestation's deepMap (lodash mapValues / map): JavaScript key order.
  if (Array.isArray(value)) value.forEach((v) => collectSalts(v, out));
  else if (value !== null && typeof value === "object") Object.keys(value).forEach((k) => collectSalts(value[k], out));
  else if (typeof value === "string") out.push(value.split(":")[0]);
  return out;
}

async function handle(input) {
  const out = {};
  const documents = input.documents || [];

  out.checks = [];
  for (const doc of documents) {
    const fragments = await verificationBuilder([openAttestationHash], { provider: {} })(doc);
    out.checks.push({
      verifySignature: oa.verifySignature(doc),
      validateSchema: oa.validateSchema(doc),
      isWrappedV2Document: oa.utils.isWrappedV2Document(doc),
      digest: oa.digestDocument(doc),
      integrity: isValid(fragments, ["DOCUMENT_INTEGRITY"]),
    });
  }
  if (documents.length > 0) {
    const tree = new oa.MerkleTree(documents.map((d) => oa.utils.hashToBuffer(d.signature.targetHash)));
    out.tree = {
      root: tree.getRoot().toString("hex"),
      proofs: documents.map((d) => tree.getProof(oa.utils.hashToBuffer(d.signature.targetHash)).map((b) => b.toString("hex"))),
    };
  }
  if (input.rewrap) {
    for (const doc of documents) collectSalts(doc.data, saltQueue);
    const rewrapped = oa.wrapDocuments(documents.map((d) => oa.getData(d)));
    if (saltQueue.length !== 0) throw new Error("crosscheck: salts left over after re-wrapping");
    out.rewrapped = rewrapped.map((d) => d.signature);
    out.rewrappedData = rewrapped.map((d) => d.data);
  }
  out.obfuscated = (input.obfuscate || []).map(({ index, fields }) => {
    const doc = oa.obfuscate(documents[index], fields);
    return { document: doc, verifySignature: oa.verifySignature(doc) };
  });
  out.disclosed = [];
  for (const doc of input.disclosed || []) {
    const fragments = await verificationBuilder([openAttestationHash], { provider: {} })(doc);
    out.disclosed.push({
      verifySignature: oa.verifySignature(doc),
      validateSchema: oa.validateSchema(doc),
      integrity: isValid(fragments, ["DOCUMENT_INTEGRITY"]),
      data: oa.getData(doc),
    });
  }
  if (input.leaves) {
    const leaves = input.leaves.map((h) => oa.utils.hashToBuffer(h));
    const tree = new oa.MerkleTree(leaves);
    out.leafTree = {
      root: tree.getRoot().toString("hex"),
      proofs: leaves.map((leaf) => tree.getProof(leaf).map((b) => b.toString("hex"))),
    };
  }
  out.strings = (input.strings || []).map((s) => JSON.stringify(s));
  out.numbers = (input.numbers || []).map((n) => String(Number(n)));
  return out;
}

async function main() {
  const { requests } = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const answers = [];
  for (const request of requests) answers.push(await handle(request));
  process.stdout.write(JSON.stringify({ answers }));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
