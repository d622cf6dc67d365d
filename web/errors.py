"""Every error the web app returns, in the one shape of SPEC §10.

``error_response`` is the one function that builds a JSON error body (it renders
``LedgerError.to_json``). Werkzeug's own HTTP errors (404 for an unknown route, 405, 413
from the request size limit, 500) are translated into ``LedgerError``s first, so an API
client never sees HTML. Pages get a plain HTML error page instead; stack traces and
details go to the server log only.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from ledger.errors import Busy, LedgerError, Malformed, NotFound, TooLarge

log = logging.getLogger("provenance.web")


class MethodNotAllowed(LedgerError):
    status, code = 405, "method-not-allowed"


class NotAcceptable(LedgerError):
    status, code = 406, "not-acceptable"


class InternalError(LedgerError):
    status, code = 500, "internal"


def error_response(err: LedgerError) -> Response:
    """The JSON error body of SPEC §10 with the error's status."""
    response = jsonify(err.to_json())
    response.status_code = err.status
    return response


def from_http(e: HTTPException) -> LedgerError:
    """Translate a Werkzeug HTTP error into the ledger's error vocabulary."""
    status = e.code or 500
    if status == 404:
        return NotFound(f"no such resource: {request.path}")
    if status == 405:
        allowed = ", ".join(sorted(getattr(e, "valid_methods", None) or []))
        return MethodNotAllowed(f"{request.method} is not allowed here; allowed: {allowed}")
    if status == 413:
        limit = request.max_content_length
        return TooLarge(f"request body is over the limit of {limit} bytes")
    if status == 406:
        return NotAcceptable(e.description or "not acceptable")
    if 400 <= status < 500:
        return Malformed(e.description or "bad request")
    return InternalError("internal error; the server log has the details")


def wants_json() -> bool:
    """API paths always answer JSON; a Digital Link does when asked; other pages answer HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.path.startswith("/01/") and best == "application/json"


def render_error_page(err: LedgerError) -> Response:
    titles = {404: "Not found", 405: "Not allowed", 413: "Too large", 400: "Bad request"}
    title = titles.get(err.status, "Something went wrong")
    body = render_template("error.html", title=title, error=err)
    return Response(body, status=err.status, mimetype="text/html")


def respond(err: LedgerError) -> Response:
    return error_response(err) if wants_json() else render_error_page(err)


def register(app: Flask) -> None:
    @app.errorhandler(LedgerError)
    def ledger_error(e: LedgerError) -> Response:
        if isinstance(e, Busy):
            response = respond(e)
            response.headers["Retry-After"] = "1"
            return response
        if e.status >= 500:
            log.error("%s %s: %s", request.method, request.path, e, exc_info=e)
            e = InternalError("internal error; the server log has the details")
        return respond(e)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Any:
        if e.code is not None and 300 <= e.code < 400:  # RequestRedirect (strict slashes)
            return e
        response = respond(from_http(e))
        if e.code == 405:
            response.headers["Allow"] = ", ".join(sorted(getattr(e, "valid_methods", None) or []))
        return response

    @app.errorhandler(sqlite3.OperationalError)
    def database_error(e: sqlite3.OperationalError) -> Response:
        if "locked" in str(e) or "busy" in str(e):  # a writer held the lock past busy_timeout
            response = respond(Busy("the ledger is busy; try again"))
            response.headers["Retry-After"] = "1"
            return response
        return unexpected(e)

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Response:
        log.error("%s %s: unexpected error", request.method, request.path, exc_info=e)
        return respond(InternalError("internal error; the server log has the details"))
