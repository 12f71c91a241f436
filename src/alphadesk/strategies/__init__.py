"""Strategies: the Strategy API and the registry of shipped strategies.

``build(name, **overrides)`` is how the CLI, settings and tests get a configured strategy: the
seed's parameters are each strategy's defaults, and every override is checked by name and value.
``name`` may also be ``path/to/file.py:ClassName`` or an installed package's entry point in the
``alphadesk.strategies`` group (:mod:`alphadesk.strategies.catalog`).
"""

from __future__ import annotations

from typing import Any

from alphadesk.strategies.api import Strategy
from alphadesk.strategies.catalog import instantiate, resolve
from alphadesk.strategies.ema_cross import EmaCross
from alphadesk.strategies.lxalgo import LxAlgo
from alphadesk.strategies.momentum import Momentum
from alphadesk.strategies.shortseller import ShortSeller

STRATEGIES: dict[str, type[Strategy[Any]]] = {
    EmaCross.name: EmaCross,
    ShortSeller.name: ShortSeller,
    LxAlgo.name: LxAlgo,
    Momentum.name: Momentum,
}


def build(name: str, **param_overrides: Any) -> Strategy[Any]:
    """A fresh strategy ``name`` with its default params changed by ``param_overrides``.

    Raises ValueError naming the strategy or the parameter when either is unknown, cannot be
    loaded, or a value is invalid.
    """
    return instantiate(resolve(name, STRATEGIES), param_overrides)


__all__ = ["STRATEGIES", "Strategy", "build"]
