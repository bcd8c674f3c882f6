"""Taking credentials out of node URLs before they reach a person: responses, reports, logs, the CLI.

Operators often reach hosted or gated nodes with the secret in the URL: `https://user:pass@node/`,
`https://node/?token=...`, or a key as a path segment (`https://node/v3/<key>`). `redact_url` masks these
in one URL, `redact` in any text that may quote URLs or a request line. Every message built around a node
URL goes through one of them; `credreg.errors.CredregError` applies `redact` to every error message too.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Query parameters that carry a secret in the node URLs of common providers and gateways (liberal on
# purpose: hiding a harmless value costs nothing, showing a token costs a rotation).
_SECRET_NAME = re.compile(
    r"(?i)^(?:.*[-_])?(?:token|apikey|api-?key|key|secret|password|passwd|pass|pwd|auth|authorization|"
    r"signature|sig|credential|credentials|jwt|access[-_]?token|session)$"
)
# A path segment that looks like a generated key: long, letters and digits mixed (Infura `/v3/<hex>`,
# Alchemy `/v2/<key>`, QuickNode `/<token>/`).
_KEYLIKE_SEGMENT = re.compile(r"^(?=[A-Za-z0-9_-]{20,}$)(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_-]+$")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()\[\]{}]+")
# A secret parameter quoted without its URL, as in urllib3's "Max retries exceeded with url: /?token=...".
_PARAM_IN_TEXT = re.compile(
    r"(?i)([?&;](?:[A-Za-z0-9]*[-_])?(?:token|apikey|api-?key|key|secret|password|passwd|pass|pwd|auth|"
    r"signature|sig|credentials?|jwt|access[-_]?token|session)=)[^&\s'\"<>#;]*"
)
# `user:password@host` even where no scheme precedes it.
_USERINFO_IN_TEXT = re.compile(r"(?<![A-Za-z0-9._%+-])[^\s/@:'\"<>]+:[^\s/@'\"<>]+@(?=[A-Za-z0-9.\[-])")


def redact_url(url: str) -> str:
    """`url` with its user name, password, secret query values and key-like path segments masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _redact_loose(url)
    if not parts.scheme or not parts.netloc:
        return _redact_loose(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    path = "/".join(MASK if _KEYLIKE_SEGMENT.match(s) else s for s in parts.path.split("/"))
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_NAME.match(name) for name, _ in pairs):
            query = urlencode(
                [(name, MASK if _SECRET_NAME.match(name) else value) for name, value in pairs], safe="*"
            )
    fragment = MASK if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


def _redact_loose(text: str) -> str:
    text = _USERINFO_IN_TEXT.sub(f"{MASK}@", text)
    return _PARAM_IN_TEXT.sub(lambda m: m.group(1) + MASK, text)


def redact(text: str) -> str:
    """`text` with credentials masked in every URL it quotes, and in bare `user:pass@` or `?token=` parts."""
    if "://" in text:
        text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    return _redact_loose(text)


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


_installed = False


def install_log_redaction() -> None:
    """Mask credentials in every log record this process creates, whoever logs it and wherever it goes.

    A record factory rather than a handler filter: uvicorn, web3 and credreg's own loggers each have their
    own handlers (or none, and Python's last-resort handler prints), and every record passes the factory.
    """
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return _redact_record(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
