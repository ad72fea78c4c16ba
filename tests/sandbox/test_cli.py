"""`python -m sandbox` and `zhibu sandbox` start the server alone."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
from typer.testing import CliRunner

from bot.cli import app
from tests.sandbox.conftest import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_m_sandbox_serves_the_fixture_given(tmp_path):
    fixture = tmp_path / "corp.json"
    fixture.write_text(
        '{"dingtalk": {"corp_id": "dingX", "app": {"client_id": "k", "client_secret": "s"},'
        ' "users": [{"userid": "u1", "name": "甲"}]}}',
        encoding="utf-8",
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--fixture", str(fixture)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def up():
            try:
                return httpx.get(url + "/_sandbox/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=20, what="python -m sandbox")
        assert httpx.get(url + "/_sandbox/fixture").json()["dingtalk"]["users"][0]["name"] == "甲"
        token = httpx.post(url + "/v1.0/oauth2/accessToken", json={"appKey": "k", "appSecret": "s"}).json()
        assert token["expireIn"] == 7200
        assert "支部助手" in httpx.get(url + "/").text
    finally:
        proc.terminate()
        proc.wait(10)


def test_zhibu_sandbox_reports_an_unreadable_fixture(tmp_path):
    result = CliRunner().invoke(
        app, ["sandbox", "--port", str(free_port()), "--fixture", str(tmp_path / "nope.json")]
    )
    assert result.exit_code == 2
    assert "无法读取模拟服务器的数据文件" in result.output
