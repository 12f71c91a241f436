"""The equity curve as a PNG for ``/performance``: Pillow, in memory, no display or fonts needed.

Pillow rather than matplotlib: a line, a zero-drawdown shade and four labels need no plotting
library, and Pillow is a few MB where matplotlib would pull a font cache and its backends.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 800, 400
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 90, 20, 30, 40
BACKGROUND = (255, 255, 255)
AXIS = (120, 120, 120)
LINE = (31, 119, 180)
UP, DOWN = (44, 160, 44), (214, 39, 40)
TEXT = (30, 30, 30)


def equity_png(points: Sequence[tuple[datetime, Decimal]], title: str) -> bytes:
    """A line chart of equity over time; a flat or single-point curve still draws. Needs at
    least one point (the caller says "no equity yet" otherwise)."""
    if not points:
        raise ValueError("equity_png needs at least one point")
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    times = [p[0].timestamp() for p in points]
    values = [float(p[1]) for p in points]
    t0, t1 = min(times), max(times)
    v0, v1 = min(values), max(values)
    if t1 == t0:
        t1 = t0 + 1.0
    if v1 == v0:
        pad = abs(v0) * 0.01 or 1.0
        v0, v1 = v0 - pad, v1 + pad
    left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, HEIGHT - MARGIN_BOTTOM

    def xy(t: float, v: float) -> tuple[float, float]:
        x = left + (t - t0) / (t1 - t0) * (right - left)
        y = bottom - (v - v0) / (v1 - v0) * (bottom - top)
        return x, y

    draw.rectangle((left, top, right, bottom), outline=AXIS)
    coords = [xy(t, v) for t, v in zip(times, values, strict=True)]
    colour = UP if values[-1] >= values[0] else DOWN
    if len(coords) == 1:
        x, y = coords[0]
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
    else:
        draw.line(coords, fill=LINE, width=2)
    draw.text((left, 8), title[:90], fill=TEXT)
    draw.text((8, top), _money(max(values)), fill=TEXT)
    draw.text((8, bottom - 12), _money(min(values)), fill=TEXT)
    draw.text((left, bottom + 8), f"{points[0][0]:%Y-%m-%d}", fill=TEXT)
    end = f"{points[-1][0]:%Y-%m-%d}"
    draw.text((right - 7 * len(end), bottom + 8), end, fill=TEXT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _money(value: float) -> str:
    return f"{value:,.2f}"
