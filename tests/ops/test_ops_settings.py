"""The operations settings (LOG_FORMAT, LOG_FILE_MAX_MB, ALPHADESK_METRICS_PORT/HOST,
--metrics-port) are checked at start-up with one line naming the variable; the metrics page binds
loopback by default and a port in use is a clear error; the page shows what it is told."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from alphadesk.adapters.metrics import BotSnapshot, DeskMetrics
from alphadesk.app import settings as desk_settings
from alphadesk.app.cli import main
from alphadesk.engine.ingest_stats import IngestStats
from alphadesk.strategies.api import TradingState


@pytest.mark.parametrize(("name", "value", "message"), [
    ("LOG_FORMAT", "xml", "LOG_FORMAT='xml': expected auto, json or text"),
    ("LOG_FILE_MAX_MB", "0", "LOG_FILE_MAX_MB='0': must be a whole number from 1 to 10000"),
    ("ALPHADESK_METRICS_PORT", "http", "ALPHADESK_METRICS_PORT='http': must be a whole number"),
    ("ALPHADESK_METRICS_PORT", "70000", "ALPHADESK_METRICS_PORT='70000': must be a whole"),
    ("ALPHADESK_METRICS_HOST", "a b", "ALPHADESK_METRICS_HOST='a b': expected a host name"),
    ("LOG_FILE", ".", "LOG_FILE='.': is a folder"),
    ("LOG_FILE", "notes.txt/desk.log", "LOG_FILE='notes.txt/desk.log': 'notes.txt' is not a"),
])
def test_a_bad_operations_variable_stops_every_command_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str,
    message: str, tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    monkeypatch.setenv(name, value)
    assert main(["db", "current"]) == 2
    assert message in capsys.readouterr().err


def test_defaults_are_off_and_loopback() -> None:
    loaded = desk_settings.load({})
    assert (loaded.metrics_port, loaded.metrics_host) == (None, "127.0.0.1")
    assert (loaded.log_format, loaded.log_file, loaded.log_file_max_mb) == ("auto", None, 50)
    loaded = desk_settings.load({"ALPHADESK_METRICS_PORT": "9108", "LOG_FORMAT": "JSON"})
    assert (loaded.metrics_port, loaded.log_format) == (9108, "json")


@pytest.mark.parametrize("command", [("listener",), ("bot", "lxalgo"), ("sync", "run")])
def test_a_bad_metrics_port_flag_is_named(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may be created in the working folder
    monkeypatch.setenv("LXALGO_BYBIT_API_KEY", "LXKEY0123")
    monkeypatch.setenv("LXALGO_BYBIT_API_SECRET", "lx-secret-0123456789")
    code = main([*command, "--metrics-port", "70000"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--metrics-port=70000: must be from 0 to 65535" in err
    assert "lx-secret-0123456789" not in err
    assert list(tmp_path.iterdir()) == []


async def test_the_page_binds_loopback_and_a_busy_port_is_a_clear_error() -> None:
    metrics = DeskMetrics("bot")
    port = await metrics.serve()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        other = DeskMetrics("bot")
        with pytest.raises(OSError, match=f"metrics: cannot listen on 127.0.0.1:{port}"):
            await other.serve("127.0.0.1", port)
    finally:
        await metrics.close()


def test_the_page_shows_bots_ingest_and_reconcile_as_told() -> None:
    stats = IngestStats(inserted=7, duplicates=2, dead_letters=1)
    metrics = DeskMetrics("bot")
    metrics.observe_ingest(stats, lambda: 4)
    metrics.observe_bot(lambda: BotSnapshot("lxalgo_001", Decimal("1012.5"), Decimal("15.25"),
                                            Decimal("-2.75"), TradingState.REDUCING, 2))
    metrics.observe_bot(lambda: None)  # not started yet: no rows
    metrics.reconciled(["lxalgo", "momentum"], [("lxalgo", "position"), ("lxalgo", "position")],
                       1_700_000_000.0)
    metrics.frame_committed(0.004)
    metrics.frame_committed(-1.0)  # a clock step back is clamped, never a negative bucket
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(metrics.render().decode())
               for s in f.samples}
    assert samples[("alphadesk_fills_written_total", ())] == 7
    assert samples[("alphadesk_fills_duplicate_total", ())] == 2
    assert samples[("alphadesk_dead_letters_total", ())] == 1
    assert samples[("alphadesk_spool_depth", ())] == 4
    assert samples[("alphadesk_bot_equity_usdt", (("bot", "lxalgo_001"),))] == 1012.5
    assert samples[("alphadesk_bot_pnl_usdt", (("bot", "lxalgo_001"), ("kind", "unrealized")))] \
        == -2.75
    assert samples[("alphadesk_bot_trading_state", (("bot", "lxalgo_001"),
                                                    ("state", "REDUCING")))] == 1
    assert samples[("alphadesk_reconcile_differences", (("account", "lxalgo"),))] == 2
    assert samples[("alphadesk_reconcile_differences", (("account", "momentum"),))] == 0
    assert samples[("alphadesk_ws_commit_lag_seconds_count", ())] == 2
    assert samples[("alphadesk_ws_commit_lag_seconds_bucket", (("le", "0.005"),))] == 2
    stats.inserted += 1  # read at scrape time: the next page has it
    assert b"alphadesk_fills_written_total 8.0" in metrics.render()
