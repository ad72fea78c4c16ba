from __future__ import annotations

import pytest
from fastapi import FastAPI

from models.db import unit_of_work
from tests.console.test_overview import console_app
from tests.ledgers.world import LedgerOrg, build_ledger_org


@pytest.fixture
def lorg(session_factory) -> LedgerOrg:
    with unit_of_work(session_factory) as session:
        return build_ledger_org(session)


@pytest.fixture
def app(session_factory, lorg) -> FastAPI:
    return console_app(session_factory)
