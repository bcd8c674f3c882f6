"""EVM nodes for tests, each on a free loopback port: anvil (credreg's dev chain) in its fee modes, and
ganache, a second implementation from npm. Every mode yields the node's URL; the same well-known test
accounts (anvil's mnemonic) are funded on all of them, and the chain id is the dev chain's.

`NODE_MODES` names them for parametrised tests (the portability matrix):
- anvil-london: EIP-1559 fees with a base fee (anvil's default);
- anvil-zero-base-fee: London with a zero base fee, as Besu's zeroBaseFee networks run;
- anvil-berlin-free: pre-London blocks (no baseFeePerGas) at gas price 0, as GoQuorum/IBFT networks run;
- ganache-london: ganache with EIP-1559 fees and a base fee;
- ganache-berlin-free: pre-London blocks at gas price 0 on ganache.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from credreg.chain.devchain import DEV_CHAIN_ID, ephemeral_chain, free_port, rpc_answers
from credreg.chain.devkeys import ANVIL_TEST_KEYS, ANVIL_TEST_MNEMONIC
from credreg.paths import node_tool

GANACHE_STARTUP_SECONDS = 60.0
GANACHE_GAS_PRICE = 2_000_000_000  # ganache's own default, 2 gwei


@contextlib.contextmanager
def anvil_node(*options: str) -> Iterator[str]:
    with ephemeral_chain("127.0.0.1", *options) as chain:
        yield chain.url


@contextlib.contextmanager
def ganache_node(*, hardfork: str = "berlin", gas_price: int = 0) -> Iterator[str]:
    """ganache (npm `ganache`, pinned in package.json) with anvil's test accounts, instamine, nothing kept."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(node_tool("ganache")),
        "--server.host", "127.0.0.1",
        "--server.port", str(port),
        "--chain.chainId", str(DEV_CHAIN_ID),
        "--chain.hardfork", hardfork,
        "--miner.defaultGasPrice", hex(gas_price),
        "--wallet.mnemonic", ANVIL_TEST_MNEMONIC,
        "--wallet.totalAccounts", str(len(ANVIL_TEST_KEYS)),
        "--logging.quiet",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + GANACHE_STARTUP_SECONDS
            while not rpc_answers(url, timeout=0.5):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode("utf-8", "replace")[-2000:]
                    raise RuntimeError(f"ganache did not start on {url}: {tail}")
                time.sleep(0.1)
            yield url
        finally:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGINT)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(5)


NODE_MODES: dict[str, Callable[[], AbstractContextManager[str]]] = {
    "anvil-london": lambda: anvil_node(),
    "anvil-zero-base-fee": lambda: anvil_node("--base-fee", "0", "--gas-price", "0"),
    "anvil-berlin-free": lambda: anvil_node("--hardfork", "berlin", "--gas-price", "0"),
    "ganache-london": lambda: ganache_node(hardfork="london", gas_price=GANACHE_GAS_PRICE),
    "ganache-berlin-free": lambda: ganache_node(hardfork="berlin", gas_price=0),
}
