"""Response headers: a strict Content-Security-Policy and friends on every response, and
open CORS on the read-only routes so other sites and apps can verify our data."""

from __future__ import annotations

from flask import Flask, Response, request

# The pages work without JavaScript; the only scripts are our own files (the shopper's page
# checks its bundle in place, issue 13), never inline. Styles come from our stylesheet only,
# images from us (QR codes) only, fetches go to us only.
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

CORS_PREFIXES = ("/api/", "/checkpoint", "/tile/")


def cors_allowed(path: str, mimetype: str | None) -> bool:
    """Read-only data anyone may fetch from a browser: the API's GETs, the checkpoint and
    the trace JSON behind a Digital Link."""
    if path.startswith(CORS_PREFIXES):
        return True
    return path.startswith("/01/") and mimetype == "application/json"


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.method in ("GET", "HEAD") and cors_allowed(request.path, response.mimetype):
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif request.method == "OPTIONS" and request.path.startswith(CORS_PREFIXES):
        # a preflight for a read: reads are open to any site, writes are not
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Accept-Language"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def register(app: Flask) -> None:
    app.after_request(add_headers)
