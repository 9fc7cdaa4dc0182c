"""Inline SVG charts drawn in Python: the report must open with no network, so no chart library or script.

Every chart is an ``<svg class="chart" data-chart=NAME data-ink=COLOURS>``: ``data-ink`` lists the colours
its marks are drawn in, so a test can find them in a screenshot. Values arrive as exact numbers (int or
Decimal); they become floats only here, as pixel positions, never as printed figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

Number = int | Decimal

SEVERITY_COLOURS = {"critical": "#b91c1c", "high": "#ea580c", "medium": "#ca8a04", "low": "#2563eb"}
SUBSIDIARY_COLOUR = "#0f766e"
AGING_COLOUR = "#7c3aed"
LINE_COLOURS = ("#0369a1", "#be185d", "#15803d")
AXIS_COLOUR = "#6b7280"
FONT = "font-family:system-ui,sans-serif;font-size:12px"


@dataclass(frozen=True)
class Segment:
    """One coloured part of a bar (a stacked bar has several)."""

    value: Number
    colour: str
    label: str  # shown as the segment's tooltip


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[Segment, ...]
    caption: str  # printed after the bar: the exact figure

    @property
    def total(self) -> Number:
        return sum((s.value for s in self.segments), 0)


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: tuple[tuple[str, Number | None], ...]  # (x label, value); None where nothing was measured


def _open_svg(name: str, width: int, height: int, inks: Sequence[str], title: str) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(name)}" data-ink="{escape(" ".join(dict.fromkeys(inks)))}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}" style="{FONT}"><title>{escape(title)}</title>'
    )


def horizontal_bars(name: str, title: str, bars: Sequence[Bar], *, width: int = 560, label_width: int = 220) -> str:
    """One row per bar, segments stacked left to right, the caption after the bar."""
    row, top = 22, 8
    height = top * 2 + row * len(bars)
    caption_width = 110
    plot = width - label_width - caption_width
    largest = max((float(b.total) for b in bars), default=0.0) or 1.0
    parts = [_open_svg(name, width, height, [s.colour for b in bars for s in b.segments], title)]
    for i, bar in enumerate(bars):
        y = top + i * row
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" fill="#111827">{escape(bar.label)}</text>'
        )
        x = float(label_width)
        for segment in bar.segments:
            w = plot * float(segment.value) / largest
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 1.0):.1f}" height="{row - 6}" fill="{segment.colour}" '
                f'shape-rendering="crispEdges"><title>{escape(segment.label)}</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" fill="#374151">{escape(bar.caption)}</text>')
    parts.append(
        f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - top}" stroke="{AXIS_COLOUR}"/></svg>'
    )
    return "".join(parts)


def columns(name: str, title: str, bars: Sequence[Bar], *, width: int = 560, height: int = 220) -> str:
    """Vertical columns (one colour each), the label under and the caption above each column."""
    left, right, top, bottom = 16, 16, 24, 28
    plot_h = height - top - bottom
    slot = (width - left - right) / max(len(bars), 1)
    largest = max((float(b.total) for b in bars), default=0.0) or 1.0
    parts = [_open_svg(name, width, height, [s.colour for b in bars for s in b.segments], title)]
    base = top + plot_h
    for i, bar in enumerate(bars):
        x = left + i * slot + slot * 0.2
        w = slot * 0.6
        y = float(base)
        for segment in bar.segments:
            h = plot_h * float(segment.value) / largest
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{max(h, 1.0):.1f}" fill="{segment.colour}" '
                f'shape-rendering="crispEdges"><title>{escape(segment.label)}</title></rect>'
            )
        centre = x + w / 2
        parts.append(
            f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle" fill="#374151">{escape(bar.caption)}</text>'
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{height - 8}" text-anchor="middle" fill="#111827">{escape(bar.label)}</text>'
        )
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="{AXIS_COLOUR}"/></svg>')
    return "".join(parts)


def lines(
    name: str,
    title: str,
    series: Sequence[Series],
    *,
    y_max: Number | None = None,
    y_label: str = "",
    width: int = 560,
    height: int = 240,
) -> str:
    """Line chart over shared x labels (in the order given), a marker on every measured point."""
    left, right, top, bottom = 56, 44, 16, 48
    labels = list(dict.fromkeys(x for s in series for x, _ in s.points))
    values = [float(v) for s in series for _, v in s.points if v is not None]
    ceiling = float(y_max) if y_max is not None else (max(values, default=0.0) * 1.1 or 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def px(label: str) -> float:
        return left + (labels.index(label) * step if len(labels) > 1 else plot_w / 2)

    def py(value: Number) -> float:
        return top + plot_h - plot_h * min(float(value), ceiling) / ceiling

    parts = [_open_svg(name, width, height, [s.colour for s in series], title)]
    for fraction in (0, 0.5, 1):
        y = top + plot_h - plot_h * fraction
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{AXIS_COLOUR}">'
            f"{escape(_tick(ceiling * fraction, y_label))}</text>"
        )
    for label in labels:
        parts.append(
            f'<text x="{px(label):.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="{AXIS_COLOUR}">'
            f"{escape(label)}</text>"
        )
    for i, s in enumerate(series):
        measured = [(x, v) for x, v in s.points if v is not None]
        if len(measured) > 1:
            path = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in measured)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{s.colour}" stroke-width="2.5"/>')
        for x, v in measured:
            parts.append(
                f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="5" fill="{s.colour}">'
                f"<title>{escape(f'{s.name} {x}: {v}')}</title></circle>"
            )
        legend_x = left + i * 180
        parts.append(
            f'<rect x="{legend_x}" y="{height - 16}" width="10" height="10" fill="{s.colour}"/>'
            f'<text x="{legend_x + 14}" y="{height - 7}" fill="#111827">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _tick(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f}%"
    return f"{value:.3g}{unit}"
