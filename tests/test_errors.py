"""One error hierarchy (SPEC §10): unique machine codes, the HTTP statuses of the contract,
and one JSON error body shape for all of them.
"""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import ledger as ledger_package
from ledger import errors
from ledger.errors import LedgerError, all_error_classes

STATUSES = {400, 403, 404, 409, 413, 422, 500, 503}  # 503: busy past the lock timeout


def _import_all() -> None:
    """Import every ledger module so that errors defined outside errors.py are counted too,
    and the web app's errors, so the set is the same whatever ran before."""
    for info in pkgutil.walk_packages(ledger_package.__path__, "ledger."):
        if not info.name.endswith(".__main__"):  # a program, not a module to import
            importlib.import_module(info.name)
    importlib.import_module("web.errors")


_import_all()
EVERY_CLASS = all_error_classes()
# The core's errors; the web app adds HTTP-level ones (405, 406) of its own.
CLASSES = [c for c in EVERY_CLASS if c.__module__.startswith("ledger.")]


def make(cls: type[LedgerError], **kw) -> LedgerError:
    if issubclass(cls, errors.RootMismatch):
        return cls(b"\x01" * 32, b"\x02" * 32)
    return cls("something is wrong", **kw)


def test_every_error_is_reachable_from_the_root():
    assert LedgerError in CLASSES
    names = {c.__name__ for c in CLASSES}
    for expected in (
        "Malformed",
        "BadSignature",
        "Replay",
        "TooLarge",
        "InsufficientBalance",
        "RevocationRefused",
        "ClockSkew",
        "NotFound",
        "IntegrityError",
    ):
        assert expected in names


def test_codes_are_unique():
    codes = [c.code for c in EVERY_CLASS]
    duplicates = {code for code in codes if codes.count(code) > 1}
    assert not duplicates, {c.__name__: c.code for c in EVERY_CLASS if c.code in duplicates}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_code_and_status_follow_the_contract(cls):
    assert isinstance(cls.code, str) and cls.code == cls.code.lower()
    assert all(part.isalnum() for part in cls.code.split("-")), cls.code
    assert cls.status in STATUSES


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_to_json_has_the_spec_shape(cls):
    err = make(cls)
    body = err.to_json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    assert body["error"]["code"] == cls.code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert json.loads(json.dumps(body)) == body  # plain JSON
    assert "field" not in body["error"]


@pytest.mark.parametrize(
    "cls", [c for c in CLASSES if not issubclass(c, errors.RootMismatch)], ids=lambda c: c.__name__
)
def test_field_is_named_in_body_and_message(cls):
    err = make(cls, field="statement.body.lot")
    body = err.to_json()["error"]
    assert body["field"] == "statement.body.lot"
    assert body["message"].startswith("statement.body.lot: ")
    assert str(err) == body["message"]


STATUS_OF = [
    (errors.Malformed, 400),
    (errors.InvalidField, 400),
    (errors.MissingField, 400),
    (errors.UnknownField, 400),
    (errors.UnknownType, 400),
    (errors.BadSignature, 403),
    (errors.UnknownIssuer, 403),
    (errors.UnknownKey, 403),
    (errors.InactiveKey, 403),
    (errors.RoleNotAllowed, 403),
    (errors.NotFound, 404),
    (errors.Replay, 409),
    (errors.TooLarge, 413),
    (errors.LotExists, 422),
    (errors.NoCustody, 422),
    (errors.InsufficientBalance, 422),
    (errors.UnitMismatch, 422),
    (errors.GtinOwned, 422),
    (errors.BatchExists, 422),
    (errors.RevocationRefused, 422),
    (errors.AlreadyRevoked, 422),
]


@pytest.mark.parametrize(("cls", "status"), STATUS_OF, ids=[c.__name__ for c, _ in STATUS_OF])
def test_status_per_spec_section_10(cls, status):
    """400 malformed, 403 signature/key/role, 409 replay, 413 too large, 422 business rule."""
    assert cls.status == status


def test_replay_carries_the_existing_seq():
    body = errors.Replay("already there", field="statement.id", seq=42).to_json()["error"]
    assert body == {
        "code": "replay",
        "message": "statement.id: already there",
        "field": "statement.id",
        "seq": 42,
    }


def test_message_already_led_by_its_field_is_not_repeated():
    err = errors.ProofError("seq 5 >= tree size 3", field="seq")
    assert err.to_json()["error"]["message"] == "seq 5 >= tree size 3"
