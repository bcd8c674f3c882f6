// Verifies credreg documents with OpenAttestation's own verifier (@govtechsg/oa-verify, ethers v5): document
// integrity and document-store status, read from the chain at the given JSON-RPC endpoint.
// Reads one JSON request on stdin: {"url": "http://127.0.0.1:PORT", "documents": [wrapped document, ...]}.
// Writes one JSON answer on stdout: {"results": [{"valid", "integrity", "status", "fragments"}, ...]}, where
// each fragment is {name, type, status, reason} as oa-verify reports it.
"use strict";

const { ethers } = require("ethers");
const {
  verificationBuilder,
  openAttestationHash,
  openAttestationEthereumDocumentStoreStatus,
  isValid,
} = require("@govtechsg/oa-verify");

function loopbackOnly(url) {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]", "::1"].includes(host)) {
    throw new Error(`refusing to verify against ${host}: only loopback endpoints are allowed here`);
  }
}

async function main() {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  loopbackOnly(input.url);
  const provider = new ethers.providers.JsonRpcProvider(input.url);
  const verify = verificationBuilder([openAttestationHash, openAttestationEthereumDocumentStoreStatus], {
    provider,
  });
  const results = [];
  for (const document of input.documents) {
    const fragments = await verify(document);
    results.push({
      valid: isValid(fragments, ["DOCUMENT_INTEGRITY", "DOCUMENT_STATUS"]),
      integrity: isValid(fragments, ["DOCUMENT_INTEGRITY"]),
      status: isValid(fragments, ["DOCUMENT_STATUS"]),
      fragments: fragments.map((f) => ({
        name: f.name,
        type: f.type,
        status: f.status,
        reason: f.reason || null,
      })),
    });
  }
  process.stdout.write(JSON.stringify({ results }));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
