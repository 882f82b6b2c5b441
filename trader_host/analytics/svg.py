"""Charts as inline SVG: no script, no CDN, nothing to download, so the report opens anywhere offline.

A `Plot` maps data to pixels and collects SVG elements: lines, bands, markers, shaded spans and bars, with
tooltips (`<title>`), axes and a legend. Only what the report draws, kept small.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    legend: list[tuple[str, str]] = field(default_factory=list)

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
            self.legend.append((name, color))

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
            self.legend.append((name, color))

    def markers(
        self, points: Sequence[tuple[float, float, str]], color: str, shape: str, name: str = ""
    ) -> None:
        """Triangles up ('up'), down ('down') or circles, each with a tooltip."""
        for x, y, tip in points:
            cx, cy = self.px(x), self.py(y)
            if shape in ("up", "down"):
                tip_dy, base_dy = (-6, 4) if shape == "up" else (6, -4)
                base = cy + base_dy
                corners = f"{cx:.1f},{cy + tip_dy:.1f} {cx - 5:.1f},{base:.1f} {cx + 5:.1f},{base:.1f}"
                mark = f'<polygon points="{corners}"'
            else:
                mark = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4"'
            self.elements.append(
                f'{mark} class="marker" fill="{color}"><title>{escape(tip)}</title></{_tag(mark)}>'
            )
        if name and points:
            self.legend.append((name, color))

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

    def hline(self, y: float, color: str, dash: str = "4 3") -> None:
        left = self.margin[3]
        self.elements.append(
            f'<line x1="{left}" x2="{self.width - self.margin[1]}" y1="{self.py(y):.1f}" '
            f'y2="{self.py(y):.1f}" stroke="{color}" stroke-dasharray="{dash}"/>'
        )

    # -- output ------------------------------------------------------------------------------------------
    def render(self) -> str:
        """The chart as one `<svg>` element."""
        top, right, bottom, left = self.margin
        w, h = self.width, self.height
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" width="{w}" '
            f'height="{h}" role="img" aria-label="{escape(self.title)}">',
            f'<text x="{left}" y="18" class="title">{escape(self.title)}</text>',
            f'<rect x="{left}" y="{top}" width="{w - left - right}" height="{h - top - bottom}" fill="none" '
            'stroke="#ccc"/>',
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
                f'<text x="{self.px(x):.1f}" y="{h - bottom + 16}" class="tick" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
        out += self.elements
        lx = left + 10
        for name, color in self.legend:
            out.append(
                f'<rect x="{lx}" y="{top + 6}" width="10" height="10" fill="{color}"/>'
                f'<text x="{lx + 14}" y="{top + 15}" class="legend">{escape(name)}</text>'
            )
            lx += 24 + 7 * len(name)
        out.append("</svg>")
        return "".join(out)


def _tag(mark: str) -> str:
    return "polygon" if mark.startswith("<polygon") else "circle"
