"""The JSON API commits a request's transaction before it answers: a client that reads right after a 201
sees the write, and a commit that fails is a 5xx, never a success the database does not hold."""

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.web.api import SessionDep, build_api_router
from models.org import OrgUnit, UnitKind


def test_the_transaction_commits_before_the_response_starts(session_factory):
    order: list[str] = []
    feature = APIRouter()

    @feature.post("/probe", status_code=201)
    def probe(session: SessionDep) -> dict:
        session.add(OrgUnit(kind=UnitKind.BRANCH, name="探针支部"))
        return {"ok": True}

    def on_commit(_session: Session) -> None:
        order.append("commit")

    app = FastAPI()
    app.include_router(build_api_router(session_factory, features=[feature]))

    async def recording(scope, receive, send):
        async def sending(message):
            if message["type"] == "http.response.start":
                order.append("response")
            await send(message)

        await app(scope, receive, sending)

    event.listen(Session, "after_commit", on_commit)
    try:
        r = TestClient(recording).post("/api/v1/probe")
    finally:
        event.remove(Session, "after_commit", on_commit)
    assert r.status_code == 201
    assert order == ["commit", "response"]
