"""Callback credentials are sealed at rest: the store never holds a BASIC password in clear,
delivery opens it, and a store written before sealing is sealed by migration 0010."""

from __future__ import annotations

import json
import logging

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from edgewise.central.services import subscriptions
from edgewise.central.services.credentials import Sealer
from edgewise.central.services.subscriptions import Api, headers_for
from edgewise.central.store.engine import MIGRATIONS, migrate, open_engine
from tests.central.services.conftest import World

BASIC = {"authType": ["BASIC"], "paramsBasic": {"userName": "acme", "password": "s3cret-pw"}}


def test_a_subscription_keeps_its_password_sealed_and_delivery_opens_it(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    sealer = Sealer(Sealer.new_key())
    made, _ = subscriptions.create(
        world.session, world.acme, Api.NSD, callback_uri="http://cb/x", filter_={},
        authentication=BASIC, sealer=sealer,
    )  # fmt: skip
    world.session.commit()
    stored = world.session.execute(
        text("SELECT authentication FROM lccn_subscriptions WHERE id = :id"), {"id": made.id}
    ).scalar_one()
    raw = stored if isinstance(stored, str) else json.dumps(stored)
    assert "s3cret-pw" not in raw  # before: the password in clear
    assert "acme" not in raw
    opened = sealer.open(json.loads(raw))
    assert headers_for(opened) == {"Authorization": "Basic YWNtZTpzM2NyZXQtcHc="}
    with caplog.at_level(logging.ERROR):
        assert headers_for(Sealer(Sealer.new_key()).open(json.loads(raw), owner=made.id)) == {}
    assert made.id in caplog.text
    assert "EDGEWISE_CREDENTIALS_KEY" in caplog.text


def test_migration_0010_seals_what_an_older_central_stored_in_clear(database_url: str) -> None:
    engine = open_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sealer = Sealer(Sealer.new_key())
    insert = text(
        "INSERT INTO lccn_subscriptions (id, api, callback_uri, filter, authentication, "
        "created_at) VALUES ('s1', 'nsd', 'http://cb', '{}', :auth, CURRENT_TIMESTAMP)"
    )
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0009")
            connection.execute(insert, {"auth": json.dumps(BASIC)})
        with pytest.raises(RuntimeError, match="1 subscriptions hold callback credentials"):
            migrate(engine)
        migrate(engine, sealer.seal)
        migrate(engine, sealer.seal)  # idempotent: sealed rows are left alone
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT authentication FROM lccn_subscriptions")
            ).scalar_one()
        stored = json.loads(stored) if isinstance(stored, str) else stored
        assert "s3cret-pw" not in json.dumps(stored)
        assert sealer.open(stored) == BASIC
    finally:
        engine.dispose()
