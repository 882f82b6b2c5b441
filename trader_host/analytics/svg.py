"""Charts as inline SVG: no script, no CDN, nothing to download, so the report opens anywhere offline.

A `Plot` maps data to pixels and collects SVG elements: lines, bands, markers, shaded spans and bars, with
tooltips (`<title>`), axes and a legend. Only what the report draws, kept small.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

PALETTE = {
    "price": "#1f3b73",
    "mean": "#888888",
    "band": "#9db4d8",
    "buy": "#1a9850",
    "sell": "#d73027",
    "trend": "#fdae61",
    "range": "#abd9e9",
    "nothing": "#eeeeee",
    "equity": "#1f3b73",
    "drawdown": "#d73027",
    "gain": "#1a9850",
    "loss": "#d73027",
    "neutral": "#7f7f7f",
    "baseline": "#222222",
    "zero": "#999999",
}


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    ticks, value = [], first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def time_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round clock times (epoch seconds) covering [lo, hi]: every 5, 10, 15 or 30 minutes, or hours."""
    span = max(hi - lo, 60.0)
    step = next(
        (s * 60.0 for s in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440) if span / (s * 60.0) <= count),
        1440 * 60.0,
    )
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) // step) + 1)]


def clock(ts: float) -> str:
    """Epoch seconds as the UTC clock time, HH:MM (the time axes' labels)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M")


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


@dataclass
class Plot:
    """One chart: data ranges, pixel size, and the elements drawn so far."""

    title: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    width: int = 900
    height: int = 300
    x_label: Callable[[float], str] = _fmt
    y_unit: str = ""
    x_ticks: Sequence[tuple[float, str]] | None = None
    margin: tuple[int, int, int, int] = (30, 20, 40, 70)  # top, right, bottom, left
    elements: list[str] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # name, colour, shape

    def __post_init__(self) -> None:
        x0, x1 = self.x_range
        y0, y1 = self.y_range
        if x1 <= x0:
            self.x_range = (x0 - 0.5, x0 + 0.5)
        if y1 <= y0:
            pad = abs(y0) * 0.01 or 1.0
            self.y_range = (y0 - pad, y0 + pad)

    # -- coordinates -------------------------------------------------------------------------------------
    def px(self, x: float) -> float:
        _, right, _, left = self.margin
        x0, x1 = self.x_range
        return left + (x - x0) / (x1 - x0) * (self.width - left - right)

    def py(self, y: float) -> float:
        top, _, bottom, _ = self.margin
        y0, y1 = self.y_range
        return top + (y1 - y) / (y1 - y0) * (self.height - top - bottom)

    # -- elements ----------------------------------------------------------------------------------------
    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        color: str,
        name: str = "",
        width: float = 1.5,
        dash: str = "",
    ) -> None:
        """A polyline; NaN values break it."""
        runs: list[list[str]] = [[]]
        for x, y in zip(xs, ys, strict=True):
            if math.isfinite(y):
                runs[-1].append(f"{self.px(x):.1f},{self.py(y):.1f}")
            elif runs[-1]:
                runs.append([])
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        for run in runs:
            if len(run) > 1:
                self.elements.append(
                    f'<polyline class="series" fill="none" stroke="{color}" stroke-width="{width}"{extra} '
                    f'points="{" ".join(run)}"/>'
                )
        if name:
            self.key(name, color, "dash" if dash else "line")

    def band(
        self,
        xs: Sequence[float],
        lo: Sequence[float],
        hi: Sequence[float],
        color: str,
        name: str = "",
        opacity: float = 0.3,
    ) -> None:
        """A filled area between two curves (finite points only)."""
        pts = [(x, a, b) for x, a, b in zip(xs, lo, hi, strict=True) if math.isfinite(a) and math.isfinite(b)]
        if len(pts) < 2:
            return
        upper = " ".join(f"{self.px(x):.1f},{self.py(b):.1f}" for x, _, b in pts)
        lower = " ".join(f"{self.px(x):.1f},{self.py(a):.1f}" for x, a, _ in reversed(pts))
        self.elements.append(
            f'<polygon class="series" fill="{color}" fill-opacity="{opacity}" stroke="none" '
            f'points="{upper} {lower}"/>'
        )
        if name:
            self.key(name, color)

    def markers(
        self, points: Sequence[tuple[float, float, str]], color: str, shape: str, name: str = ""
    ) -> None:
        """One of SHAPES at each point, each with a tooltip."""
        for x, y, tip in points:
            mark = _symbol(shape, self.px(x), self.py(y), color)
            self.elements.append(f'{mark} class="marker"><title>{escape(tip)}</title></{_tag(mark)}>')
        if name and points:
            self.key(name, color, shape)

    def key(self, name: str, color: str, shape: str = "swatch") -> None:
        """A legend entry: a colour's swatch, a line's stroke ('line', 'dash') or a marker's shape."""
        if shape not in (*SHAPES, "swatch", "line", "dash"):
            raise ValueError(f"unknown legend shape {shape!r}")
        if (name, color, shape) not in self.legend:
            self.legend.append((name, color, shape))

    def span(self, x0: float, x1: float, color: str, tip: str = "") -> None:
        """A shaded vertical stripe over the whole plotting area (regime shading)."""
        top, _, bottom, _ = self.margin
        lo, hi = self.x_range  # a regime that began before the chart or ends after it stops at its edge
        left_px, right_px = self.px(max(x0, lo)), self.px(min(x1, hi))
        if right_px <= left_px:
            return
        title = f"<title>{escape(tip)}</title>" if tip else ""
        self.elements.insert(
            0,
            f'<rect class="span" x="{left_px:.1f}" y="{top}" width="{max(right_px - left_px, 0.5):.1f}" '
            f'height="{self.height - top - bottom}" fill="{color}" fill-opacity="0.45">{title}</rect>',
        )

    def bars(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        width: float,
        colors: Sequence[str],
        tips: Sequence[str],
        offset: float = 0.0,
    ) -> None:
        """Vertical bars from zero, `width` in x units, shifted by `offset`; a NaN (no value) has no bar."""
        zero = self.py(0.0)
        for x, y, color, tip in zip(xs, ys, colors, tips, strict=True):
            if not math.isfinite(y):
                continue
            left_px = self.px(x + offset - width / 2)
            right_px = self.px(x + offset + width / 2)
            top_px = min(zero, self.py(y))
            self.elements.append(
                f'<rect class="bar" x="{left_px:.1f}" y="{top_px:.1f}" '
                f'width="{max(right_px - left_px, 1):.1f}" height="{max(abs(self.py(y) - zero), 0.5):.1f}" '
                f'fill="{color}"><title>{escape(tip)}</title></rect>'
            )

    def tick(self, x: float, y: float, width: float, color: str, tip: str = "") -> None:
        """A short horizontal mark of `width` x units centred on x (a baseline over a bar)."""
        title = f"<title>{escape(tip)}</title>" if tip else ""
        self.elements.append(
            f'<line class="tick-mark" x1="{self.px(x - width / 2):.1f}" x2="{self.px(x + width / 2):.1f}" '
            f'y1="{self.py(y):.1f}" y2="{self.py(y):.1f}" stroke="{color}" stroke-width="3">{title}</line>'
        )

    def hline(self, y: float, color: str, dash: str = "4 3", name: str = "") -> None:
        """A horizontal reference line across the plotting area (named in the legend when `name`)."""
        left = self.margin[3]
        self.elements.append(
            f'<line x1="{left}" x2="{self.width - self.margin[1]}" y1="{self.py(y):.1f}" '
            f'y2="{self.py(y):.1f}" stroke="{color}" stroke-dasharray="{dash}"/>'
        )
        if name:
            self.key(name, color, "dash" if dash else "line")

    # -- output ------------------------------------------------------------------------------------------
    def render(self) -> str:
        """The chart as one `<svg>` element, its legend in rows below the x axis."""
        top, right, bottom, left = self.margin
        w = self.width
        rows = _legend_rows(self.legend, w - left - right)
        h = self.height + max(0, LEGEND_ROW_PX * len(rows) - 10)
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" width="{w}" '
            f'height="{h}" role="img" aria-label="{escape(self.title)}">',
            f'<text x="{left}" y="18" class="title">{escape(self.title)}</text>',
            f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{self.height - top - bottom}" '
            'fill="none" stroke="#ccc"/>',
        ]
        for y in nice_ticks(*self.y_range):
            out.append(
                f'<line x1="{left}" x2="{w - right}" y1="{self.py(y):.1f}" y2="{self.py(y):.1f}" '
                'stroke="#eee"/>'
                f'<text x="{left - 6}" y="{self.py(y) + 4:.1f}" class="tick" text-anchor="end">'
                f"{escape(_fmt(y) + self.y_unit)}</text>"
            )
        x_ticks = (
            self.x_ticks
            if self.x_ticks is not None
            else [(x, self.x_label(x)) for x in nice_ticks(*self.x_range)]
        )
        for x, label in x_ticks:
            out.append(
                f'<text x="{self.px(x):.1f}" y="{self.height - bottom + 16}" class="tick" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        out += self.elements
        for k, row in enumerate(rows):
            y = self.height - 6 + LEGEND_ROW_PX * k  # the row's middle, below the tick labels
            lx = float(left)
            for name, color, shape in row:
                out.append(
                    f'<g class="key">{_key_symbol(shape, lx + 6, y, color)}'
                    f'<text x="{lx + 16:.1f}" y="{y + 4}" class="legend">{escape(name)}</text></g>'
                )
                lx += _key_width(name)
        out.append("</svg>")
        return "".join(out)


SHAPES = ("up", "down", "circle", "square", "diamond")  # the markers' shapes
LEGEND_ROW_PX = 18


def _symbol(shape: str, cx: float, cy: float, color: str) -> str:
    """A marker's SVG element, unclosed (the caller adds attributes and its tooltip)."""
    if shape in ("up", "down"):
        tip_dy, base_dy = (-6, 4) if shape == "up" else (6, -4)
        corners = (
            f"{cx:.1f},{cy + tip_dy:.1f} {cx - 5:.1f},{cy + base_dy:.1f} {cx + 5:.1f},{cy + base_dy:.1f}"
        )
        return f'<polygon points="{corners}" fill="{color}"'
    if shape == "diamond":
        corners = f"{cx:.1f},{cy - 6:.1f} {cx + 6:.1f},{cy:.1f} {cx:.1f},{cy + 6:.1f} {cx - 6:.1f},{cy:.1f}"
        return f'<polygon points="{corners}" fill="{color}"'
    if shape == "square":
        return f'<rect x="{cx - 4.5:.1f}" y="{cy - 4.5:.1f}" width="9" height="9" fill="{color}"'
    if shape == "circle":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{color}"'
    raise ValueError(f"unknown marker shape {shape!r}: one of {', '.join(SHAPES)}")


def _key_symbol(shape: str, cx: float, cy: float, color: str) -> str:
    """The legend's sample of an entry: its marker, a stroke for a line, a swatch for an area or a bar."""
    if shape in SHAPES:
        mark = _symbol(shape, cx, cy, color)
        return f"{mark}></{_tag(mark)}>"
    if shape in ("line", "dash"):
        dash = ' stroke-dasharray="4 3"' if shape == "dash" else ""
        return (
            f'<line x1="{cx - 7:.1f}" x2="{cx + 7:.1f}" y1="{cy:.1f}" y2="{cy:.1f}" stroke="{color}" '
            f'stroke-width="2"{dash}/>'
        )
    return f'<rect x="{cx - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10" fill="{color}"/>'


def _key_width(name: str) -> float:
    return 30 + 6.2 * len(name)  # the sample, a gap and the text at the legend's 11 px


def _legend_rows(legend: list[tuple[str, str, str]], width: float) -> list[list[tuple[str, str, str]]]:
    """The entries in rows no wider than the plotting area."""
    rows: list[list[tuple[str, str, str]]] = []
    used = width
    for entry in legend:
        if used + _key_width(entry[0]) > width and (not rows or rows[-1]):
            rows.append([])
            used = 0.0
        rows[-1].append(entry)
        used += _key_width(entry[0])
    return rows


def _tag(mark: str) -> str:
    return mark[1 : mark.index(" ")]
