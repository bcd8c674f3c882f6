"""The credreg HTTP API (FastAPI): a thin shell over `credreg.service` and the library."""

from credreg.api.app import create_app

__all__ = ["create_app"]
