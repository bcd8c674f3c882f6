"""credreg certificates as W3C Verifiable Credentials 2.0 and SD-JWT VCs, with status lists from the ledger."""
