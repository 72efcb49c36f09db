"""The store as a whole: engines per URL, schema upgrades and the seed rows every store needs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from closedloop.db import make_engine, make_session_factory
from closedloop.deals.models import PipelineStage
from closedloop.i18n import LANGUAGES, translate
from closedloop.migrations.guard import UpgradePolicy, run_with_retries
from closedloop.policies.models import PolicyVersion
from closedloop.workspace.models import WorkspaceSettings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# SPEC section 2: the default pipeline with win probability and forecast category.
DEFAULT_PIPELINE = (
    ("initial_contact", Decimal("0.10"), "pipeline", "open"),
    ("needs_analysis", Decimal("0.25"), "pipeline", "open"),
    ("proposal", Decimal("0.50"), "best_case", "open"),
    ("negotiation", Decimal("0.75"), "commit", "open"),
    ("won", Decimal("1.00"), "closed", "won"),
    ("lost", Decimal("0.00"), "omitted", "lost"),
)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine (and pool) per store URL in this process."""
    return make_engine(url)


def session_factory_for(url: str) -> sessionmaker[Session]:
    """Sessions on the store at `url`."""
    return make_session_factory(engine_for(url))


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(engine: Engine, *, policy: UpgradePolicy = UpgradePolicy()) -> None:
    """Bring the schema to the latest migration and insert the seed rows; safe to repeat.

    On PostgreSQL it may run while the application serves (docs/DEPLOYMENT.md, "Upgrades"): lock
    waits are bounded by `policy` and retried; `MigrationTimedOut` says what held the upgrade up.
    """
    cfg = alembic_config()
    cfg.attributes["policy"] = policy

    def run() -> None:
        with engine.connect() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    run_with_retries(engine, run, policy)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed(session)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("workspace_settings") and current_revision(engine) == head_revision()


def seed(session: Session) -> None:
    """Insert the workspace row, the default pipeline and the initial policy versions if missing."""
    if session.get(WorkspaceSettings, 1) is None:
        session.add(WorkspaceSettings(id=1))
    if session.scalar(select(PipelineStage.id).limit(1)) is None:
        for position, (key, probability, category, outcome) in enumerate(DEFAULT_PIPELINE):
            names = {lang: translate(f"deal_stage.{key}", lang) for lang in LANGUAGES}
            session.add(
                PipelineStage(
                    key=key,
                    position=position,
                    probability=probability,
                    forecast_category=category,
                    outcome=outcome,
                    names=names,
                )
            )
    if session.scalar(select(PolicyVersion.id).where(PolicyVersion.kind == "stage_probabilities")) is None:
        session.add(
            PolicyVersion(
                kind="stage_probabilities",
                version=1,
                effective_from=EPOCH,
                payload={key: str(probability) for key, probability, _, _ in DEFAULT_PIPELINE},
                reason="Default pipeline (SPEC section 2)",
                status="approved",
                approved_at=EPOCH,
            )
        )
    session.flush()
    # The default channel grouping, so server processes starting together never race to seed it.
    from closedloop.marketing.channels import rules_in_force

    rules_in_force(session, at=EPOCH)
