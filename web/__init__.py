"""The web app: the JSON API of SPEC §10, the shopper's page behind the QR code, and the
pages for brands, suppliers and auditors.

``create_app(config)`` is the Flask app factory; the ledger home comes from
``config["PROVENANCE_HOME"]`` (else ``$PROVENANCE_HOME``), the public URL put in QR codes
from ``PROVENANCE_BASE_URL`` (else the request's own host).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ledger.core.ledger import default_home

if TYPE_CHECKING:
    from flask import Flask

MAX_CONTENT_LENGTH = 512 * 1024  # above ledger.model.statements.MAX_ENVELOPE_BYTES


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    from flask import Flask  # here, so `provenance` commands other than serve start fast
    from flask.json.provider import DefaultJSONProvider

    app = Flask(__name__)
    app.config.update(
        PROVENANCE_HOME=str(default_home()),
        PROVENANCE_BASE_URL=os.environ.get("PROVENANCE_BASE_URL") or None,
        # An independent verifier (provenance verifier DIR) the shopper's page links to.
        PROVENANCE_VERIFIER_URL=os.environ.get("PROVENANCE_VERIFIER_URL") or None,
        # Group commit (ledger/group.py); PROVENANCE_GROUP_COMMIT=0 turns it off, to measure.
        PROVENANCE_GROUP_COMMIT=os.environ.get("PROVENANCE_GROUP_COMMIT", "1") != "0",
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        JSON_SORT_KEYS=False,
    )
    if config:
        app.config.update(config)
    assert isinstance(app.json, DefaultJSONProvider)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False  # "//" is a 404, never a redirect to another resource

    from web import errors, handle, host, security
    from web.api import formats, tiles
    from web.api import routes as api
    from web.pages import views
    from web.present import filters

    host.register(app)
    handle.register(app)
    errors.register(app)
    security.register(app)
    filters.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(tiles.bp)
    app.register_blueprint(formats.bp)
    app.register_blueprint(views.bp)
    return app
