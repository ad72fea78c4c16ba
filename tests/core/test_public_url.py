"""One source of truth for the public base URL (issue 15: 2): `zhibu demo --port P` answered chat with
the right address, but its QR images, the WeCom identity redirect and its scheduled messages pointed at
the environment's default, http://127.0.0.1:8000."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import httpx
import zxingcpp
from PIL import Image

from bot.cli.common import core_config
from bot.cli.serve import demo_settings
from config import get_settings, use_settings
from handlers.meetings import signin as signin_uc
from handlers.observers import jobs as observer_jobs
from scheduler.jobs import all_jobs
from tests.core.e2e import running_bot
from tests.core.helpers import make_org


def test_pages_and_redirects_name_the_service_s_own_public_url(session_factory, database_url):
    make_org(session_factory)
    with running_bot(session_factory, database_url) as bot:
        assert not bot.url.endswith(":8000")
        secret = bot.service.settings.secret_key.get_secret_value()
        token = signin_uc.make_token(secret, 1, datetime.now(UTC) + timedelta(hours=1))
        png = httpx.get(f"{bot.url}/h5/meetings/1/qr.png", params={"t": token}, trust_env=False)
        assert png.status_code == 200
        [code] = zxingcpp.read_barcodes(Image.open(BytesIO(png.content)))
        assert code.text == f"{bot.url}/h5/meetings/1/signin?t={token}"
        hop = httpx.get(
            f"{bot.url}/h5/meetings/auth/wecom", params={"next": "/h5/meetings/1/signin"}, trust_env=False
        )
        assert hop.status_code == 302
        back = parse_qs(urlsplit(hop.headers["location"]).query)["redirect_uri"][0]
        assert back == f"{bot.url}/h5/meetings/1/signin"


def test_the_demo_s_settings_are_what_its_jobs_read(tmp_path, monkeypatch):
    s = demo_settings(f"sqlite:///{tmp_path / 'd.db'}", "http://127.0.0.1:18081", "http://127.0.0.1:18999")
    assert get_settings().public_base_url != s.public_base_url
    links: list[str] = []
    monkeypatch.setattr(
        observer_jobs, "send_notices", lambda _s, *, public_base_url, **_: links.append(public_base_url)
    )
    monkeypatch.setattr(observer_jobs, "send_cancellations", lambda *_a, **_k: None)
    use_settings(s)
    try:
        assert get_settings() is s
        spec = {j.name: j for j in all_jobs(core_config(get_settings()))}["observers.notices"]
        spec.function(None, datetime(2026, 11, 2, tzinfo=UTC), "")
        assert links == ["http://127.0.0.1:18999"]
    finally:
        use_settings(None)
    assert get_settings().public_base_url != s.public_base_url
