"""The service behind the HTTP API: a durable outbox relaying agency-signed requests, and an index of the
registry's events, both in one SQL database."""

from credreg.service.db import Database
from credreg.service.index import EventIndex, EventQuery
from credreg.service.intake import RequestRefused
from credreg.service.outbox import Outbox
from credreg.service.runtime import Readiness, Service, relayer_account
from credreg.service.uploads import BatchUploads, UploadProblem

__all__ = [
    "BatchUploads",
    "Database",
    "EventIndex",
    "EventQuery",
    "Outbox",
    "Readiness",
    "RequestRefused",
    "Service",
    "UploadProblem",
    "relayer_account",
]
