"""Jinja filters and globals: the templates' plain words (see ``words``)."""

from __future__ import annotations

from flask import Flask

from web import digital_link
from web.present import words as w
from web.present.countries import country_name


def register(app: Flask) -> None:
    app.jinja_env.autoescape = True  # every template, whatever its extension
    app.jinja_env.filters.update(
        date=w.date,
        amount=w.amount,
        country=country_name,
        place=w.place,
        role=lambda r: w.ROLE_NAME.get(r, r),
        found=w.found,
        indicator=w.indicator_name,
        outcome=lambda o: w.OUTCOME_NAME.get(o, o),
        sentence=w.sentence,
    )
    app.jinja_env.globals.update(dl_path=digital_link.path, type_name=w.TYPE_NAME)
