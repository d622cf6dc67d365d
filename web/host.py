"""The Host header, checked before anything uses it (issue 9, item 6).

Pages put the request's Host in URLs (the QR code, the label) when no public base URL is
configured, and Werkzeug IDNA-encodes it to route the request: a label over 63 characters
failed there, before any of our code ran, and every page answered a 500. ``HostCheck``
looks at the raw header first: a host name of LDH labels (RFC 1123; ``_`` tolerated) of 1–63
characters and at most 253 in all, an IPv4 address, or a bracketed IPv6 literal, with an
optional port 1–65535. A bad one is swapped for a placeholder so routing works, and the
request answers 400 ``bad-host`` in the usual JSON or HTML error shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request

from ledger.errors import LedgerError

ENVIRON_FLAG = "provenance.bad_host"
PLACEHOLDER = "bad-host.invalid"

_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]{2,45}\]")
_PORT = re.compile(r"[0-9]{1,5}")


class BadHost(LedgerError):
    status, code = 400, "bad-host"


def host_problem(host: str) -> str | None:
    """Why ``host`` (a Host header value) is not a valid ``host[:port]``, or None."""
    if host.startswith("["):
        name, bracket, rest = host.partition("]")
        name += bracket
        if not bracket or (rest and not rest.startswith(":")):
            return "is not a bracketed IPv6 address"
        port = rest[1:] if rest else None
        if not _IPV6.fullmatch(name):
            return "is not a bracketed IPv6 address"
    else:
        name, colon, port_text = host.partition(":")
        port = port_text if colon else None
        if len(name) > 253:
            return f"is {len(name)} characters long; a host name has at most 253"
        if not _NAME.fullmatch(name):
            too_long = [label for label in name.split(".") if len(label) > 63]
            if too_long:
                return f"has a label of {len(too_long[0])} characters; a label has at most 63"
            return "is not a host name (letters, digits and hyphens in dot-separated labels)"
        try:  # an "xn--" label must be valid punycode: Werkzeug decodes it for host_url
            name.encode("ascii").decode("idna")
        except UnicodeError:
            return "has a label that is not valid punycode (IDNA)"
    if port is not None and (not _PORT.fullmatch(port) or not 0 < int(port) < 65536):
        return "has a port that is not a number from 1 to 65535"
    return None


class HostCheck:
    """WSGI middleware: flag a bad Host and give routing a placeholder in its place."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if host is not None:
            problem = host_problem(host)
            if problem is not None:
                environ[ENVIRON_FLAG] = problem
                environ["HTTP_HOST"] = PLACEHOLDER
        return self.app(environ, start_response)


def refuse_bad_host() -> None:
    problem = request.environ.get(ENVIRON_FLAG)
    if problem is not None:
        raise BadHost(f"the Host header {problem}", field="Host")


def no_store_for_bad_host(response: Response) -> Response:
    if ENVIRON_FLAG in request.environ:
        response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.wsgi_app = HostCheck(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(refuse_bad_host)
    app.after_request(no_store_for_bad_host)
