"""Real request bodies for the API docs (`/docs`): built by credreg's own code, so they are always valid.

The certificate is the first of the demo session `credreg run` issues on a fresh dev chain (the registry of
anvil test account 0's first deployment, agency 1); on another ledger it verifies as "not issued", which is
itself a real answer. The issuance is signed by the demo agency's signer, anvil test account 2.
"""

from __future__ import annotations

import io
import json
import uuid
from functools import cache
from itertools import count
from typing import Any

#: Where `credreg run` deploys on a fresh dev chain (anvil test account 0, nonce 0).
DEMO_REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DEMO_CHAIN_ID = 31337
DEMO_AGENCY = (1, "北京市数字技术职业技能鉴定中心 Beijing Digital Skills Assessment Centre")

ISSUANCE_HOWTO = """\
An issuance is an agency signer key's EIP-712 signature over `Issue(bytes32 root,bytes32 scope,uint40
validUntil,uint64 deadline)` in the domain `credreg`, version `2`, the chain id and the registry address
(docs/service.md, "Signed requests"). From Python:

```python
from credreg.chain.manifest import Manifest
from credreg.registry import Registry

registry = Registry.connect("http://127.0.0.1:8545", Manifest.load(".credreg/deployment.json"))
request = registry.issue_request(root, scope_id, valid_until)  # deadline: a day from now
signed = registry.sign_issue(signer_account, request)          # an eth-account LocalAccount
httpx.post(f"{service}/v1/issuances", json={**signed.model_dump(mode="json"), "leaves": leaves})
```

From the command line, on a machine that never touches the network and then anywhere:
`credreg sign issue CERTIFICATE.json --out issue.json -k signer.json`, then
`credreg submit issue.json --service https://registry.example.org`. `leaves` (optional) are the batch's
target hashes, so the service can answer look-ups of each certificate.
"""


@cache
def certificate_example() -> dict[str, Any]:
    """A wrapped OpenAttestation v2 certificate, with fixed salts (the same every time)."""
    from credreg.documents.layout import wrap_certificates
    from credreg.documents.model import AgencyRef
    from credreg.documents.results import IssueContext, read_results
    from credreg.documents.wrap import dump_document
    from credreg.samples import sample_rows

    row = sample_rows(1, prefix="DEMO")[0]
    context = IssueContext(
        agency=AgencyRef(id=DEMO_AGENCY[0], name=DEMO_AGENCY[1]),
        chain_id=DEMO_CHAIN_ID,
        registry=DEMO_REGISTRY,
    )
    certificates = read_results(io.StringIO(json.dumps(row) + "\n"), context=context, file_format="jsonl")
    salts = (str(uuid.UUID(int=n, version=4)) for n in count(1))
    (document,) = wrap_certificates(certificates, identity_location="localhost", salts=salts)
    return dict(json.loads(dump_document(document)))


@cache
def issuance_example() -> dict[str, Any]:
    """A signed issuance of the example certificate's root, by the demo agency's signer."""
    from eth_account import Account

    from credreg.chain.devkeys import ANVIL_TEST_KEYS
    from credreg.chain.eip712 import Domain, IssueRequest
    from credreg.registry.requests import sign_issue

    document = certificate_example()
    root = "0x" + document["signature"]["merkleRoot"]
    scope_id = str(document["data"]["credreg"]["scopeId"]).split(":", 2)[-1]
    request = IssueRequest(root=root, scope_id=scope_id, valid_until=1_877_529_600, deadline=1_893_456_000)
    domain = Domain(chain_id=DEMO_CHAIN_ID, registry=DEMO_REGISTRY)
    signed = sign_issue(Account.from_key(ANVIL_TEST_KEYS[2]), domain, request)
    return {**signed.model_dump(mode="json"), "leaves": ["0x" + document["signature"]["targetHash"]]}


__all__ = ["ISSUANCE_HOWTO", "certificate_example", "issuance_example"]
