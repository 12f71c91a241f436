"""Secret masking, environment routing on the configured ccxt object, the key-permission check."""

from __future__ import annotations

import itertools
import logging
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alphadesk.adapters.bybit import schemas as w
from alphadesk.adapters.bybit.auth import rest_signature, ws_auth_message, ws_signature
from alphadesk.adapters.bybit.config import AccountConfig, Environment, environment_from_env
from alphadesk.adapters.bybit.errors import Action, PermissionDenied, UnsafeApiKey
from alphadesk.adapters.bybit.history import WINDOW_MS, windows
from alphadesk.adapters.bybit.permissions import check_key, key_permissions
from alphadesk.adapters.bybit.rest import BybitRest
from alphadesk.adapters.bybit.secret import Secret
from alphadesk.adapters.bybit.wire import convert
from alphadesk.domain.errors import InvalidField

SECRET = "very-secret-value-1234"


def config(env: Environment = Environment.LIVE, **kw: Any) -> AccountConfig:
    return AccountConfig("acct-1", "KEY123456", Secret(SECRET), env, **kw)


def test_secret_is_masked_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(SECRET)
    cfg = config()
    texts = [repr(secret), str(secret), f"{secret}", f"{secret!r}", repr(cfg), str(cfg)]
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("config %s %r", cfg, secret)
    texts.append(caplog.text)
    for text in texts:
        assert SECRET not in text
        assert "***" in text
    assert secret.reveal() == SECRET
    with pytest.raises(TypeError):
        pickle.dumps(secret)


LONG_KEY = "AbCdEfGhIjKlMnOpQr"  # Bybit API keys are 18 characters


def test_api_key_is_masked_in_the_repr(caplog: pytest.LogCaptureFixture) -> None:
    cfg = AccountConfig("acct-1", LONG_KEY, Secret(SECRET), Environment.DEMO)
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("config %s / %r", cfg, cfg)
    for text in (repr(cfg), str(cfg), f"{cfg!r}", caplog.text):
        assert LONG_KEY not in text and LONG_KEY[4:-2] not in text
        assert "AbCd...Qr" in text and "acct-1" in text and "demo" in text
    short = config()  # "KEY123456": too short to show 6 of its characters
    assert "KEY123456" not in repr(short) and "KEY1" not in repr(short)
    assert "api_key=''" in repr(AccountConfig.public())
    assert cfg.api_key == LONG_KEY  # masked in the repr only


def test_a_refused_api_key_is_not_echoed_in_full() -> None:
    bad = LONG_KEY * 8  # over the 128-character limit
    with pytest.raises(InvalidField) as info:
        AccountConfig("a", bad, Secret(SECRET), Environment.LIVE)
    assert LONG_KEY not in str(info.value) and "AbCd" in str(info.value)


def test_bad_secret_type_error_does_not_echo_it() -> None:
    with pytest.raises(InvalidField) as info:
        AccountConfig("a", "k", SECRET, Environment.LIVE)  # type: ignore[arg-type]
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, Environment.LIVE),
        ({"BYBIT_TESTNET": "true"}, Environment.TESTNET),
        ({"BYBIT_DEMO": "1"}, Environment.DEMO),
        ({"BYBIT_DEMO": "false", "BYBIT_TESTNET": "yes"}, Environment.TESTNET),
        ({"BYBIT_DEMO": "TRUE", "BYBIT_TESTNET": "0"}, Environment.DEMO),
        ({"BYBIT_DEMO": "", "BYBIT_TESTNET": " "}, Environment.LIVE),
    ],
)
def test_environment_from_env(env: dict[str, str], expected: Environment) -> None:
    assert environment_from_env(env) is expected


def test_environment_flag_typo_is_refused() -> None:
    with pytest.raises(InvalidField, match="BYBIT_DEMO"):
        environment_from_env({"BYBIT_DEMO": "ture"})


@pytest.mark.parametrize("value", ["ture", "on", "off", "2", "y"])
def test_a_typo_in_testnet_is_refused_even_when_demo_is_set(value: str) -> None:
    with pytest.raises(InvalidField, match=f"BYBIT_TESTNET={value!r}"):
        environment_from_env({"BYBIT_DEMO": "true", "BYBIT_TESTNET": value})


def test_demo_and_testnet_together_are_contradictory() -> None:
    with pytest.raises(InvalidField, match="contradict each other"):
        environment_from_env({"BYBIT_DEMO": "1", "BYBIT_TESTNET": "yes"})


@pytest.mark.parametrize("environment", list(Environment))
@pytest.mark.parametrize(
    "url", ["http://example.com", "http://10.1.2.3:8765", "http://api.bybit.com", "ws://127.0.0.1"]
)
def test_clear_text_base_url_off_this_machine_is_refused(
    environment: Environment, url: str
) -> None:
    with pytest.raises(InvalidField, match=r"bybit\.base_url=.*must be https://"):
        config(environment, base_url=url)


@pytest.mark.parametrize(
    "url", ["https://api.bybit.com", "http://127.0.0.1:8765", "http://127.0.0.2", "http://[::1]:1",
            "http://localhost:8765"]
)
def test_https_or_a_loopback_simulator_is_accepted(url: str) -> None:
    for environment in Environment:
        assert config(environment, base_url=url).base_url == url


@pytest.mark.parametrize(
    ("env", "rest", "public_ws", "private_ws"),
    [
        (
            Environment.LIVE,
            "https://api.bybit.com",
            "wss://stream.bybit.com/v5/public/linear",
            "wss://stream.bybit.com/v5/private",
        ),
        (
            Environment.DEMO,
            "https://api-demo.bybit.com",
            "wss://stream.bybit.com/v5/public/linear",  # demo has no public streams
            "wss://stream-demo.bybit.com/v5/private",
        ),
        (
            Environment.TESTNET,
            "https://api-testnet.bybit.com",
            "wss://stream-testnet.bybit.com/v5/public/linear",
            "wss://stream-testnet.bybit.com/v5/private",
        ),
    ],
)
async def test_routing_on_the_ccxt_object(
    env: Environment, rest: str, public_ws: str, private_ws: str
) -> None:
    client = BybitRest(config(env))
    try:
        ex = client.exchange
        assert ex.implode_hostname(ex.urls["api"]["public"]) == rest
        assert ex.implode_hostname(ex.urls["api"]["private"]) == rest
        assert client.endpoints.rest == rest
        assert client.endpoints.public_ws == public_ws
        assert client.endpoints.private_ws == private_ws
        assert ex.options["recvWindow"] == 5000
        assert ex.apiKey == "KEY123456"
        assert SECRET not in repr(client)
    finally:
        await client.close()


async def test_base_url_override_moves_rest_and_both_sockets() -> None:
    cfg = config(Environment.DEMO, base_url="http://127.0.0.1:8123", recv_window_ms=7000)
    client = BybitRest(cfg)
    try:
        ep = client.endpoints
        assert ep.rest == "http://127.0.0.1:8123"
        assert ep.public_ws == "ws://127.0.0.1:8123/v5/public/linear"
        assert ep.private_ws == "ws://127.0.0.1:8123/v5/private"
        assert client.exchange.urls["api"]["ws"]["private"]["unified"] == ep.private_ws
        assert client.exchange.options["recvWindow"] == 7000
    finally:
        await client.close()


def test_withdraw_capable_key_is_refused(bybit_payload: Any) -> None:
    info = convert(bybit_payload("http_get_user_query_api")["result"], w.ApiKeyInfo, "q")
    perms = key_permissions(info)
    with pytest.raises(UnsafeApiKey) as exc:
        check_key(perms, account="shortseller", trading=True)
    message = str(exc.value)
    assert exc.value.action is Action.HALT
    assert "Wallet:AccountTransfer" in message and "Wallet:SubMemberTransfer" in message
    assert "XXXXXXXX" not in message  # the key itself is shown masked only


def test_transfer_only_sub_key_is_refused_too(bybit_payload: Any) -> None:
    info = convert(bybit_payload("http_post_user_update_sub_api")["result"], w.ApiKeyInfo, "q")
    with pytest.raises(UnsafeApiKey, match="Wallet:AccountTransfer"):
        check_key(key_permissions(info), account="a")


def test_trading_key_without_wallet_passes_and_read_only_needs_asking(
    bybit_payload: Any,
) -> None:
    raw = bybit_payload("http_get_user_query_api")["result"]
    for group in ("Wallet", "FiatP2P", "FiatBybitPay", "FiatBitPay", "BitCard"):
        raw["permissions"][group] = []
    raw["readOnly"] = 0
    perms = key_permissions(convert(raw, w.ApiKeyInfo, "q"))
    check_key(perms, account="a", trading=True)  # no exception
    raw["readOnly"] = 1
    read_only = key_permissions(convert(raw, w.ApiKeyInfo, "q"))
    with pytest.raises(PermissionDenied, match="read-only"):
        check_key(read_only, account="a", trading=True)
    check_key(read_only, account="a", trading=False)


def test_ws_auth_signature_matches_bybit_recipe() -> None:
    # hex(HMAC_SHA256(secret, "GET/realtime" + expires)), computed independently:
    import hashlib
    import hmac

    expected = hmac.new(b"abc", b"GET/realtime1700000010000", hashlib.sha256).hexdigest()
    assert ws_signature(Secret("abc"), 1700000010000) == expected
    message = ws_auth_message("KEY", Secret("abc"), 1700000010000, "auth-1")
    assert message == {"req_id": "auth-1", "op": "auth", "args": ["KEY", 1700000010000, expected]}
    rest = hmac.new(b"abc", b"1KEY5000a=1", hashlib.sha256).hexdigest()
    assert rest_signature(Secret("abc"), 1, "KEY", 5000, "a=1") == rest


def test_seven_day_windows_are_contiguous() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=20, hours=3)
    spans = list(windows(start, end))
    assert len(spans) == 3
    assert spans[0][0] == int(start.timestamp() * 1000)
    assert spans[-1][1] == int(end.timestamp() * 1000)
    for (_, b), (c, _) in itertools.pairwise(spans):
        assert c == b + 1
    assert all(b - a < WINDOW_MS for a, b in spans)
    assert list(windows(start, start)) == [(spans[0][0], spans[0][0])]
    with pytest.raises(InvalidField):
        list(windows(end, start))
