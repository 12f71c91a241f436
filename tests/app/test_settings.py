from __future__ import annotations

import logging
from pathlib import Path

import pytest

from alphadesk.app import settings as settings_mod
from alphadesk.app.logging import RedactingFilter
from alphadesk.app.settings import SettingsError, load
from alphadesk.domain.secrets import Secret


def test_demo_and_testnet_together_are_refused_and_default_is_live() -> None:
    with pytest.raises(SettingsError, match="contradict each other"):
        load({"BYBIT_DEMO": "true", "BYBIT_TESTNET": "true"})
    assert load({"BYBIT_DEMO": "true", "BYBIT_TESTNET": "false"}).bybit_environment == "demo"
    assert load({"BYBIT_TESTNET": "1"}).bybit_environment == "testnet"
    assert load({"BYBIT_DEMO": ""}).bybit_environment == "live"  # empty is unset
    assert load({}).bybit_environment == "live"


def test_a_typo_in_a_flag_stops_the_desk() -> None:
    with pytest.raises(SettingsError, match="BYBIT_DEMO='ture'"):
        load({"BYBIT_DEMO": "ture"})


def test_per_bot_keys_are_secrets_and_never_printed() -> None:
    env = {
        "SHORTSELLER_BYBIT_API_KEY": "key-ss-123",
        "SHORTSELLER_BYBIT_API_SECRET": "very-secret-value",
    }
    s = load(env)
    bot = s.bot("shortseller_001")
    assert bot.has_credentials
    assert bot.api_secret.reveal() == "very-secret-value"
    assert "very-secret-value" not in repr(s)
    assert "very-secret-value" not in f"{bot.api_secret}"
    assert not s.bot("lxalgo").has_credentials
    with pytest.raises(SettingsError, match="'nobody' is not configured"):
        s.bot("nobody")


def test_admin_ids_and_toml_params(tmp_path: Path) -> None:
    cfg = tmp_path / "desk.toml"
    cfg.write_text('[bots.lxalgo]\nposition_usdt = 150\n')
    s = load({"C2_TELEGRAM_ADMIN_IDS": "42, 7", "ALPHADESK_CONFIG": str(cfg)})
    assert s.telegram_admin_ids == (42, 7)
    assert s.bot("lxalgo_001").params == {"position_usdt": 150}
    with pytest.raises(SettingsError, match="'abc' is not a numeric user id"):
        load({"C2_TELEGRAM_ADMIN_IDS": "42,abc"})
    with pytest.raises(SettingsError, match="file not found"):
        load({"ALPHADESK_CONFIG": str(tmp_path / "missing.toml")})


def test_default_database_is_a_local_sqlite_file() -> None:
    assert load({}).database_url == settings_mod.DEFAULT_DATABASE_URL
    assert load({}).database_url.startswith("sqlite:///")


def test_redacting_filter_masks_secret_values_in_log_records() -> None:
    args = ("abcd-1234",)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "signed with %s", args, None)
    assert RedactingFilter([Secret("abcd-1234")]).filter(record)
    assert record.getMessage() == "signed with ***"


def test_secret_cannot_be_pickled_or_formatted() -> None:
    import pickle

    secret = Secret("hunter22")
    assert repr(secret) == "Secret(***)"
    assert "hunter22" not in f"{secret!s} {secret:>20}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_cli_reports_errors_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from alphadesk.app.cli import main

    monkeypatch.delenv("ALPHADESK_DEBUG", raising=False)
    monkeypatch.setenv("DATABASE_URL", "mysql://nowhere/db")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(("alphadesk db: ", "db: "))
    assert "mysql://nowhere/db" in err
    assert "Traceback" not in err


def test_cli_turns_an_unexpected_failure_into_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from alphadesk.app.cli import main

    monkeypatch.delenv("ALPHADESK_DEBUG", raising=False)
    missing = tmp_path / "no-such-dir" / "x.csv"
    code = main(["backtest", "--strategy", "ema_cross", "--data", str(missing)])
    err = capsys.readouterr().err.strip()
    assert code in (1, 2)
    assert "Traceback" not in err
    assert "x.csv" in err
