from web3 import Web3

from credreg.chain.devchain import DevChain


def test_anvil_test_keys_match_the_accounts_anvil_funds(w3: Web3, anvil_accounts: list) -> None:
    assert [a.address for a in anvil_accounts] == w3.eth.accounts[: len(anvil_accounts)]


def test_dev_chain_reports_its_chain_id(w3: Web3, chain: DevChain) -> None:
    assert w3.eth.chain_id == chain.chain_id
