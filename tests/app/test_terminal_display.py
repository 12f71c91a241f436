"""The progress displays' shared shape (``app/terminal_display.py``): on a terminal the rich
display runs inside the ``with`` block only, stopped on an error too; off one, plain lines."""

from __future__ import annotations

import io

import pytest

from alphadesk.app.data_progress import DownloadDisplay


def test_a_bar_runs_inside_the_block_and_shows_each_task() -> None:
    out = io.StringIO()
    with DownloadDisplay(stream=out, force_bar=True) as display:
        assert display._shown is not None and display._shown.live.is_started
        display("BTCUSDT 5m", 2, 4)
        display("BTCUSDT 5m", 4, 4)
    assert not display._shown.live.is_started
    assert "BTCUSDT 5m" in out.getvalue() and "4/4" in out.getvalue()


def test_the_bar_stops_when_the_block_fails() -> None:
    display = DownloadDisplay(stream=io.StringIO(), force_bar=True)
    with pytest.raises(RuntimeError, match="boom"), display:
        raise RuntimeError("boom")
    assert display._shown is not None and not display._shown.live.is_started


def test_off_a_terminal_nothing_is_started_and_each_finished_task_is_one_line() -> None:
    out = io.StringIO()
    with DownloadDisplay(stream=out) as display:
        display("ETHUSDT 4h", 1, 3)
        display("ETHUSDT 4h", 3, 3)
        display("ETHUSDT 4h", 3, 3)
    assert display._shown is None
    assert out.getvalue() == "ETHUSDT 4h: 3 to fetch, done\n"
