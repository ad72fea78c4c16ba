"""The composition root mounts every feature's H5 pages: a feature whose chat sends a link to its page must have
that page in the app `zhibu serve` runs, not only in its own tests' app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.web import appraisal, fees, inspection, projects
from bot.web.app import create_app


def test_every_h5_feature_is_mounted_in_the_app():
    client = TestClient(create_app(lambda: None))  # no page is rendered: no session is opened
    assert client.get("/h5/nothing-here/session").status_code == 404
    for prefix in (fees.PREFIX, appraisal.PREFIX, projects.PREFIX, inspection.PREFIX):
        # Every H5 feature has its login-free session endpoint (POST): a GET is refused (405, or 422 where a
        # page's path parameter takes the word), never unknown.
        assert client.get(f"{prefix}/session").status_code in (405, 422), prefix
