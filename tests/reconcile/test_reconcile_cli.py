"""``alphadesk reconcile`` refuses bad input with one line naming the flag (exit 2), before it
opens the ledger or calls the venue."""

from __future__ import annotations

import pytest

from alphadesk.app import cli


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for strategy in ("SHORTSELLER", "LXALGO", "MOMENTUM"):
        monkeypatch.delenv(f"{strategy}_BYBIT_API_KEY", raising=False)
        monkeypatch.delenv(f"{strategy}_BYBIT_API_SECRET", raising=False)
    monkeypatch.delenv("ALPHADESK_CONFIG", raising=False)
    monkeypatch.delenv("ALPHADESK_DEBUG", raising=False)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--since", "yesterday"], "--since='yesterday': not an ISO 8601 time"),
        (["--since", "2025-10-02", "--until", "2025-10-01"], "--until='2025-10-01': is before"),
        (["--days", "0"], "--days=0.0: must be"),
        (["--bot", "nobody"], "bot 'nobody' is not configured"),
        (["--bot", "shortseller"], "--bot shortseller: no API key"),
        ([], "no bot has an API key"),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["reconcile", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1, err
