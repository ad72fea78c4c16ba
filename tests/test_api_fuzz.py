"""A bounded schemathesis run over the whole JSON API (/api/v1), in process, on a seeded database.

Every operation of the API's own OpenAPI document (/api/v1/openapi.json, served by build_api_router;
the app itself has none) is called with schemathesis' examples, coverage (boundary values, wrong
types, missing fields, undeclared methods) and fuzzing phases, through the ASGI app as `zhibu serve`
builds it, with a whole-organisation write token, on the demo organisation with two months of history.
Every built-in check applies: no 5xx, every status and body as documented, schema-invalid requests
refused, the Allow header right, and so on. Hypothesis is derandomised and bounded, so a run is
repeatable and takes seconds.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import text

import models.meetings_seed  # noqa: F401 - registers the meetings history generator
import models.observers_seed  # noqa: F401 - registers the observers history generator
from bot.web.api import REFUSED
from bot.web.app import create_app
from models.api_token import TOKEN_PREFIX, ApiToken, hash_token
from models.base import Base
from models.db import make_engine, make_sessionmaker
from models.seed import seed
from tests.conftest import PG_SKIP_REASON, PG_URL, _pg_schema_url

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
# ZHIBU_FUZZ_EXAMPLES raises the bound for a longer hunt (the suite keeps it small and fixed).
MAX_EXAMPLES = int(os.environ.get("ZHIBU_FUZZ_EXAMPLES", "25"))
# The same token on every database, so schemathesis can be told it (auth from its configuration is
# known to it: it does not count an Authorization it generated and we overwrote as a negative case).
TOKEN = TOKEN_PREFIX + "fuzz" * 11


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_database(request, tmp_path_factory):
    """One seeded database per backend for the whole module (seeding per operation would dominate)."""
    admin = schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    else:
        if not PG_URL:
            pytest.skip(PG_SKIP_REASON)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _pg_schema_url(PG_URL, schema)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    with factory() as s, s.begin():
        seed(s, "demo", dingtalk_corp_id="d", wecom_corp_id="w", months=2, today=TODAY, now=NOW)
        s.add(
            ApiToken(
                name="fuzz", token_hash=hash_token(TOKEN), can_write=True, created_at=NOW, updated_at=NOW
            )
        )
    try:
        yield request.param, factory
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


class _CurrentDatabase:
    """The session factory of the database under test. The app and the schema are built once, at import
    (schemathesis collects one test per operation from them); the fixture points this at its database."""

    factory = None

    def __call__(self):
        return self.factory()


CURRENT = _CurrentDatabase()
schema = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json",
    create_app(CURRENT, clock=lambda: NOW),
    config=SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": TOKEN}}}}),
)


# What the run got back, per database and operation: (status, how many). The last test reads it.
SEEN: dict[str, dict[str, Counter[int]]] = defaultdict(lambda: defaultdict(Counter))


@pytest.fixture
def database(fuzz_database) -> str:
    name, CURRENT.factory = fuzz_database
    return name


def positive_data_accepted_unless_refused(ctx, response, case):
    """positive_data_acceptance, except for a 422 whose every error is of type "refused".

    That check assumes a request the schema allows is accepted. Some refusals depend on the data and
    the clock, which no schema can state: branch_id names a 党委 rather than a 党支部, starts_at is in
    the past, the person holds no 观察员 role, the link already exists. The API gives those a distinct
    error type (bot.web.api.refused), so they are told apart from a 422 of FastAPI's own validation,
    which would mean that the schema and the validation disagree and still fails here.
    """
    if response.status_code == 422:
        try:
            errors = response.json()["detail"]
        except (ValueError, KeyError, TypeError):
            errors = None
        if isinstance(errors, list) and errors and all(e.get("type") == REFUSED for e in errors):
            return None
    return positive_data_acceptance(ctx, response, case)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # The seeded data is the same for every example; filtering health checks only slow a bounded run.
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, database):
    response = case.call_and_validate(
        excluded_checks=[positive_data_acceptance],
        additional_checks=[positive_data_accepted_unless_refused],
    )
    SEEN[database][case.operation.label][response.status_code] += 1


def test_the_run_got_past_authentication_everywhere(database):
    """A run that only ever saw 401 (a token the app does not know) would pass every check above.

    Writes rarely succeed with drawn values (a random observer and branch, a start in the past); the
    unit tests cover their successes, this run their refusals."""
    seen = SEEN.get(database)
    if not seen:
        pytest.skip("the schemathesis run above did not run in this session")
    assert len(seen) == len(list(schema.get_all_operations()))
    for operation, statuses in seen.items():
        # Past authentication and routing: the endpoint itself answered (a 4xx of its own counts).
        assert set(statuses) - {401, 405}, (operation, statuses)
        if operation.startswith("GET "):
            assert any(200 <= status < 300 for status in statuses), (operation, statuses)
    requests = sum(sum(statuses.values()) for statuses in seen.values())
    print(f"schemathesis on {database}: {requests} requests over {len(seen)} operations")
