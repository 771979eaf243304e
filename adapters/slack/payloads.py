"""Slack's request bodies, decoded once and fast.

A survey submission arrives as ``payload=<the whole view as URL-encoded JSON>``:
about 14 KB with some 2,000 percent escapes. The standard library decodes
those one by one in Python (0.28 ms for that body, more than bolt's own work
on the request); here the escapes are handed to a C codec instead, with the
standard library's answer wherever the fast way does not apply.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import unquote

from bot.host import wire

#: How far a request's timestamp may be from now (Slack's own advice: 5 minutes).
MAX_AGE_SECONDS = 60 * 5


def unquote_plus(text: str) -> str:
    """``urllib.parse.unquote_plus``, for the text a form body holds."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if "\\" not in text and text.isascii():
        try:
            # %XX -> \xXX -> the byte XX (unicode_escape, latin-1) -> UTF-8 text
            return (text.replace("%", "\\x").encode("ascii").decode("unicode_escape")
                    .encode("latin-1").decode("utf-8"))
        except (UnicodeError, ValueError):
            pass  # a stray %, a bad escape, invalid UTF-8: as the standard library does
    return unquote(text)


def decode_form(body: str) -> dict[str, str]:
    """``dict(urllib.parse.parse_qsl(body, keep_blank_values=True))``, faster."""
    fields: dict[str, str] = {}
    for pair in body.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            fields[unquote_plus(name)] = unquote_plus(value)
    return fields


def parse(body: bytes, content_type: str) -> Any:
    """A request's body as bolt reads it: an event or an interaction's ``payload``
    as JSON, a slash command's form fields as a dict. Raises ValueError when the
    body is not what it claims to be: not UTF-8, not JSON, nested too deep.
    Slack's JSON is read at fixed paths only, so the decoder's own bound on
    nesting is enough (see ``wire.loads``)."""
    text = wire.text_of(body)
    if content_type == "application/json" or text.startswith("{"):
        return wire.loads(text, max_depth=None)
    fields = decode_form(text)
    return wire.loads(fields["payload"], max_depth=None) if "payload" in fields else fields


def signed(secret: str, body: bytes, timestamp: str | None, signature: str | None,
           now: float) -> bool:
    """Slack's v0 signature (HMAC-SHA256 of "v0:<timestamp>:<body>") over the raw
    bytes, and a timestamp within five minutes of ``now``. Any header value that
    is not what Slack sends (no digits, non-ASCII) is simply not a signature."""
    if not timestamp or not signature or len(timestamp) > 12 or not (
            timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace"))
