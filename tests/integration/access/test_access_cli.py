"""`closedloop user|apikey` on a real store: passwords from stdin, keys printed once, leavers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from closedloop.db import unit_of_work
from closedloop.users import auth
from closedloop.users.cli import apikey, user
from closedloop.users.models import ApiKey, User
from closedloop.users.passwords import verify_password

SECRET = "cli-tests-secret-key-0123456789-abcdefgh"


@pytest.fixture
def cli_store(store, monkeypatch):
    """The CLI pointed at the test store."""
    from closedloop.config import get_settings

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", store.url)
    monkeypatch.setenv("CLOSEDLOOP_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def test_user_team_and_key_commands(cli_store) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(
            user, ["team", "create", "--name", "北區業務", "--kind", "sales", "--region", "北區"]
        ).exit_code
        == 0
    )
    created = runner.invoke(
        user,
        ["create", "--email", " Ann@Corp.example", "--role", "sales", "--team", "北區業務", "--name", "Ann"],
        input="ann-password-123\n",
    )
    assert created.exit_code == 0, created.output
    assert "ann-password-123" not in created.output
    short = runner.invoke(user, ["create", "--email", "bob@corp.example", "--role", "sales"], input="short\n")
    assert short.exit_code != 0 and "10" in str(short.exception)
    heir = runner.invoke(
        user, ["create", "--email", "cy@corp.example", "--role", "sales"], input="cy-password-123\n"
    )
    assert heir.exit_code == 0
    listed = json.loads(runner.invoke(user, ["list", "--format", "json"]).output)
    assert [(u["email"], u["role"], u["team"]) for u in listed] == [
        ("ann@corp.example", "sales", "北區業務"),
        ("cy@corp.example", "sales", None),
    ]

    made = runner.invoke(apikey, ["create", "--user", "ann@corp.example", "--scopes", "read,capture"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[0]
    assert key.startswith("cl_")
    keys = runner.invoke(apikey, ["list", "--format", "json"]).output
    assert key not in keys and json.loads(keys)[0]["scopes"] == "capture,read"
    with unit_of_work(cli_store.session_factory) as session:
        ann = session.scalar(select(User).where(User.email == "ann@corp.example"))
        assert verify_password(ann.password_hash, "ann-password-123")
        row, _ = auth.resolve_api_key(session=session, token=key)
        assert row.user_id == ann.id
        prefix = row.prefix

    assert runner.invoke(apikey, ["revoke", prefix]).exit_code == 0
    with unit_of_work(cli_store.session_factory) as session:
        assert session.scalar(select(ApiKey.revoked_at)) is not None
    gone = runner.invoke(
        user, ["deactivate", "--email", "ann@corp.example", "--successor", "cy@corp.example"]
    )
    assert gone.exit_code == 0, gone.output
    again = runner.invoke(
        user, ["deactivate", "--email", "ann@corp.example", "--successor", "cy@corp.example"]
    )
    assert again.exit_code != 0
