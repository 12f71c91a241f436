"""The web package's pure parts: the login limiter's window, JSON of views, the backtest
folder's name checks, loopback detection, the pages put together from one shell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alphadesk.domain.errors import InvalidField
from alphadesk.domain.secrets import Secret
from alphadesk.strategies.api import TradingState
from alphadesk.web.backtests import BacktestFolder
from alphadesk.web.config import is_loopback
from alphadesk.web.jsonview import to_jsonable
from alphadesk.web.pages import SHELLED, render_pages
from alphadesk.web.ratelimit import LoginLimiter


def test_limiter_counts_failures_per_key_in_a_sliding_window() -> None:
    now = [0.0]
    limiter = LoginLimiter(2, 10.0, lambda: now[0])
    limiter.failed("ip:a", "user:x")
    now[0] = 4.0
    limiter.failed("ip:a", "user:x")
    assert limiter.retry_after("ip:a") == pytest.approx(6.0)  # the oldest leaves at t=10
    assert limiter.retry_after("ip:b", "user:y") == 0
    assert limiter.retry_after("ip:b", "user:x") == pytest.approx(6.0)
    now[0] = 10.0
    assert limiter.retry_after("ip:a") == 0  # one failure left in the window: allowed
    limiter.failed("ip:a")
    assert limiter.retry_after("ip:a") == pytest.approx(4.0)


@dataclass(frozen=True)
class View:
    money: Decimal
    at: datetime
    state: TradingState
    key: Secret
    lines: tuple[tuple[str, Decimal], ...]
    _private: int = 0


def test_views_become_json_with_exact_money_and_no_secret() -> None:
    view = View(Decimal("0.10000000"), datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
                TradingState.HALTED, Secret("hunter2"), (("a", Decimal("-1.5")),))  # fmt: skip
    assert to_jsonable(view) == {
        "money": "0.10000000", "at": "2025-01-02T03:04:05Z", "state": "HALTED", "key": None,
        "lines": [["a", "-1.5"]],
    }  # fmt: skip
    assert to_jsonable(Decimal("NaN")) is None and to_jsonable(float("inf")) is None


def test_backtest_folder_serves_only_its_own_files(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text("[1]")
    (tmp_path / "ok.html").write_text("<p>")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.json").write_text("{}")
    folder = BacktestFolder(tmp_path)
    assert sorted(f.name for f in folder.list()) == ["ok.html", "r.json"]
    assert folder.path("ok.html") == tmp_path / "ok.html"
    for bad in ("../r.json", "sub/x.json", ".r.json", "ok.txt", ""):
        with pytest.raises(InvalidField, match="name="):
            folder.path(bad)
    with pytest.raises(InvalidField, match="result"):
        folder.path("ok.html", "result")
    with pytest.raises(InvalidField, match="not a backtest result"):
        folder.result("r.json")
    with pytest.raises(FileNotFoundError):
        folder.path("gone.json")
    assert BacktestFolder(tmp_path / "missing").list() == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("192.168.1.5", False), ("desk.example", False), ("::", False)],
)  # fmt: skip
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_every_signed_in_page_has_the_shell_its_title_and_script() -> None:
    pages = render_pages()
    assert set(pages) == {*SHELLED, "login.html"}
    for name, page in SHELLED.items():
        html = pages[name].decode("utf-8")
        assert html.startswith("<!doctype html>") and html.endswith("</html>\n"), name
        assert f"<title>{page.title} · AlphaDesk</title>" in html
        assert f'<script src="/static/js/{page.script}.js" defer></script>' in html
        assert '<header class="top">' in html and "<main>" in html and "${" not in html, name
    for name in ("overview.html", "bot.html"):
        assert pages[name].count(b'<dialog id="confirm-flatten">') == 1, name
    assert b'<header class="top">' not in pages["login.html"]


def test_a_placeholder_without_a_partial_fails_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "_shell.html").write_text("<title>${title}</title>${script}${main}")
    (tmp_path / "login.html").write_text("<form></form>")
    for name in SHELLED:
        (tmp_path / name).write_text("<p>${nowhere}</p>")
    with pytest.raises(ValueError, match=r"\$\{nowhere\} has no partial _nowhere.html"):
        render_pages(tmp_path)
