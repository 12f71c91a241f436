"""Walk-forward windows: search in-sample, then judge the chosen parameters on the bars after.

A sweep that ranks parameter sets on the bars it searched mostly finds the noise of those bars.
Each fold searches an in-sample window and reports its best sets on the out-of-sample window
that follows it, which the search never saw. Out-of-sample windows are consecutive and equal, so
together they cover the period's end:

    fold 0: [ in-sample 0 ][ oos 0 ]
    fold 1:         [ in-sample 1 ][ oos 1 ]
    fold 2:                 [ in-sample 2 ][ oos 2 ]

With ``in_sample`` the in-sample share of one fold's span (in + out), the out-of-sample length
``o`` solves ``i + folds * o = span`` with ``i = o * in_sample / (1 - in_sample)``. One fold is a
plain split: the first ``in_sample`` of the period searched, the rest reported. ``in_sample = 1``
searches the whole period and reports nothing out of sample. Boundaries fall on bar opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from alphadesk.domain.errors import InvalidField


@dataclass(frozen=True, slots=True)
class Window:
    fold: int
    in_start_ms: int
    in_end_ms: int
    """Exclusive: bars opening before it."""
    out_start_ms: int
    out_end_ms: int
    """Equal to ``out_start_ms`` when there is no out-of-sample part."""

    @property
    def has_out_of_sample(self) -> bool:
        return self.out_end_ms > self.out_start_ms


def windows(
    start_ms: int, end_ms: int, bar_ms: int, folds: int, in_sample: Fraction
) -> list[Window]:
    """The folds over [start_ms, end_ms) in bars of ``bar_ms``; each window holds at least one
    bar, or InvalidField names ``--folds``."""
    if folds < 1:
        raise InvalidField("--folds", folds, "must be >= 1")
    if not 0 < in_sample <= 1:
        raise InvalidField("--in-sample", float(in_sample), "must be in (0, 1]")
    if bar_ms <= 0 or end_ms <= start_ms:
        raise InvalidField("period", (start_ms, end_ms), "is empty")
    bars = (end_ms - start_ms) // bar_ms
    if in_sample == 1:
        if folds != 1:
            raise InvalidField("--folds", folds, "needs --in-sample below 1")
        return [Window(0, start_ms, end_ms, end_ms, end_ms)]
    ratio = in_sample / (1 - in_sample)
    out_bars = Fraction(bars) / (folds + ratio)
    in_bars = int(out_bars * ratio)
    out_whole = int(out_bars)
    if in_bars < 1 or out_whole < 1:
        raise InvalidField(
            "--folds", folds, f"leaves windows under one bar ({bars} bars in the period)"
        )
    out: list[Window] = []
    for fold in range(folds):
        in_start = start_ms + fold * out_whole * bar_ms
        in_end = in_start + in_bars * bar_ms
        out_end = in_end + out_whole * bar_ms if fold < folds - 1 else end_ms
        out.append(Window(fold, in_start, in_end, in_end, out_end))
    return out
