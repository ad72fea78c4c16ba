import pytest

from config import DEFAULT_SECRET_KEY, SettingsError, load_settings


def test_defaults_and_nested_env(monkeypatch):
    monkeypatch.setenv("ZHIBU_DINGTALK__CLIENT_ID", "ding-app")
    monkeypatch.setenv("ZHIBU_DINGTALK__CLIENT_SECRET", "s3cret-value")
    monkeypatch.setenv("ZHIBU_WECOM__API_BASE", "http://127.0.0.1:9/cgi-bin")
    s = load_settings(_env_file=None)
    assert s.database_url == "sqlite:///./zhibu.db"
    assert s.timezone == "Asia/Shanghai"
    assert s.dingtalk.enabled and not s.wecom.enabled
    assert s.wecom.api_base == "http://127.0.0.1:9/cgi-bin/"
    assert "s3cret-value" not in repr(s) and "s3cret-value" not in str(s.masked())


def test_malformed_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("ZHIBU_WECOM__OAUTH_BASE", "ftp://nowhere")
    with pytest.raises(SettingsError, match=r"^ZHIBU_WECOM__OAUTH_BASE: "):
        load_settings(_env_file=None)
    monkeypatch.delenv("ZHIBU_WECOM__OAUTH_BASE")
    monkeypatch.setenv("ZHIBU_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match=r"^ZHIBU_TIMEZONE: "):
        load_settings(_env_file=None)


def test_the_published_secret_key_is_refused_even_in_demo_mode(monkeypatch):
    """ZHIBU_DEMO=true used to let `zhibu serve` run on the published key (anyone could forge a session)."""
    s = load_settings(_env_file=None)
    assert s.secret_key.get_secret_value() == DEFAULT_SECRET_KEY
    with pytest.raises(SettingsError, match="ZHIBU_SECRET_KEY"):
        s.require_production_secret()
    with pytest.raises(SettingsError, match="ZHIBU_SECRET_KEY"):
        load_settings(_env_file=None, demo=True).require_production_secret()
    monkeypatch.setenv("ZHIBU_SECRET_KEY", "x" * 40)
    load_settings(_env_file=None).require_production_secret()


def test_dingtalk_card_template_reaches_the_sender(monkeypatch):
    from bot.platforms.wiring import build_platforms

    monkeypatch.setenv("ZHIBU_DINGTALK__CLIENT_ID", "ding-app")
    monkeypatch.setenv("ZHIBU_DINGTALK__CLIENT_SECRET", "s3cret-value")
    monkeypatch.setenv("ZHIBU_DINGTALK__CARD_TEMPLATE_ID", "tpl-from-card-platform.schema")
    platforms = build_platforms(load_settings(_env_file=None), None, stream=False)
    try:
        (sender,) = [s for s in platforms.senders if s.platform == "dingtalk"]
        assert sender.card_template_id == "tpl-from-card-platform.schema"
    finally:
        for close in platforms.closers:
            close()


@pytest.mark.parametrize("command", [["serve"], ["check"]])
def test_serve_and_check_refuse_the_published_key_whatever_the_flags(monkeypatch, tmp_path, command):
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("ZHIBU_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("ZHIBU_DEMO", "true")
    monkeypatch.delenv("ZHIBU_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2 and "ZHIBU_SECRET_KEY" in result.output
    assert not (tmp_path / "x.db").exists()  # refused before anything was opened or served
