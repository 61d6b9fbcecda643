"""A horizontal bar chart as plain SVG data for the round page (no script, no inline styles).

Suppressed counts (``"<N"``) are drawn as a dashed outline of length N labelled ``<N``: the
chart says "fewer than N", never the exact number.
"""

from __future__ import annotations

from dataclasses import dataclass

BAR_WIDTH = 360
ROW_HEIGHT = 28
LABEL_WIDTH = 260


@dataclass(frozen=True)
class Bar:
    """One bar: its label, the count as shown, geometry, and whether it is suppressed."""

    label: str
    shown: str
    y: int
    width: int
    suppressed: bool


@dataclass(frozen=True)
class Chart:
    """What the template draws."""

    bars: list[Bar]
    width: int
    height: int
    label_width: int


def bar_chart(rows: list[tuple[str, int | str]], threshold: int) -> Chart:
    """Bars for ``(label, count)`` rows; a string count is a suppressed ``"<N"``."""
    values = [c if isinstance(c, int) else threshold for _, c in rows]
    top = max(values, default=1) or 1
    bars = [
        Bar(
            label=label,
            shown=str(count),
            y=i * ROW_HEIGHT,
            width=max(2, round(BAR_WIDTH * value / top)),
            suppressed=not isinstance(count, int),
        )
        for i, ((label, count), value) in enumerate(zip(rows, values, strict=True))
    ]
    return Chart(bars, LABEL_WIDTH + BAR_WIDTH + 60, max(1, len(bars)) * ROW_HEIGHT, LABEL_WIDTH)
