"""Simulated Bybit accounts: one API key and secret each, like one sub-account per bot.

The secret is kept out of ``repr`` so a failing test or a log line never prints it. An account
can be made to carry Bybit's ``Withdraw`` or transfer permissions, or to be read-only, so that
the desk's refusal of such a key, and Bybit's refusal of a read-only key's orders (10005), can be
tested against a server that really reports and enforces them.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from alphadesk.domain.errors import InvalidField

DEFAULT_BALANCE = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class SimAccount:
    key: str
    secret: str = field(repr=False)
    name: str = ""
    withdraw: bool = False
    read_only: bool = False
    balance: Decimal = DEFAULT_BALANCE
    uid: int = 0
    transfer: bool = False

    def __post_init__(self) -> None:
        if not self.key or not self.key.isprintable() or ":" in self.key:
            raise InvalidField("account.key", self.key, "must be non-empty, printable, without ':'")
        if not self.secret:
            raise InvalidField("account.secret", "***", "must not be empty")
        if not self.name:
            object.__setattr__(self, "name", self.key)

    @property
    def can_trade(self) -> bool:
        """What Bybit checks before an order: not read-only and ``ContractTrade: Order``."""
        return not self.read_only and "Order" in self.permissions()["ContractTrade"]

    def permissions(self) -> dict[str, list[str]]:
        """Bybit's ``/v5/user/query-api`` permission map for this key.

        A plain simulator key is a trading key with no wallet rights, the kind the desk accepts;
        ``transfer`` and ``withdraw`` make the kinds it must refuse. A read-only key keeps its
        permission lists and says ``readOnly: 1``, as in the recorded payload
        (``http_get_user_query_api``), so a client must read the flag, not the lists.
        """
        wallet = ["AccountTransfer", "SubMemberTransfer"] if self.transfer or self.withdraw else []
        if self.withdraw:
            wallet.append("Withdraw")
        return {
            "ContractTrade": ["Order", "Position"],
            "Spot": ["SpotTrade"],
            "Wallet": wallet,
            "Options": [],
            "Derivatives": ["DerivativesTrade"],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": ["ExchangeHistory"],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
        }


def parse_account(spec: str) -> SimAccount:
    """``KEY:SECRET`` from the command line (the secret may itself contain ':')."""
    key, sep, secret = spec.partition(":")
    if not sep:
        raise InvalidField("--account", key + ":***", "must be KEY:SECRET")
    return SimAccount(key=key, secret=secret)


def _flag(entry: dict[str, Any], index: int, name: str) -> bool:
    value = entry.get(name, False)
    if not isinstance(value, bool):
        raise InvalidField(f"account[{index}].{name}", value, "must be true or false")
    return value


def _account_from(entry: dict[str, Any], index: int) -> SimAccount:
    try:
        return SimAccount(
            key=str(entry["key"]),
            secret=str(entry["secret"]),
            name=str(entry.get("name", "")),
            withdraw=_flag(entry, index, "withdraw"),
            transfer=_flag(entry, index, "transfer"),
            read_only=_flag(entry, index, "read_only"),
            balance=Decimal(str(entry.get("balance", DEFAULT_BALANCE))),
            uid=int(entry.get("uid", 0)),
        )
    except KeyError as exc:
        raise InvalidField(f"account[{index}]", exc.args[0], "is missing") from None


def load_accounts(path: Path | str) -> list[SimAccount]:
    """A TOML file of ``[[account]]`` tables: key, secret, and optional name, withdraw,
    transfer, read_only, balance (USDT, as a string), uid."""
    path = Path(path)
    with path.open("rb") as handle:
        doc = tomllib.load(handle)
    entries = doc.get("account")
    if not isinstance(entries, list) or not entries:
        raise InvalidField(f"{path.name}.account", entries, "must be a non-empty [[account]] list")
    return [_account_from(entry, i) for i, entry in enumerate(entries)]


def number_accounts(accounts: list[SimAccount]) -> list[SimAccount]:
    """Give each account a distinct Bybit-like uid and refuse duplicate keys."""
    keys = [a.key for a in accounts]
    if len(set(keys)) != len(keys):
        raise InvalidField("accounts", sorted(keys), "has a duplicate key")
    return [
        dataclasses.replace(account, uid=account.uid or 100_000 + i)
        for i, account in enumerate(accounts)
    ]
