"""Charts as inline SVG, drawn here: no script, no web font, no request of any kind.

Every chart is a ``<svg role="img">`` with a ``<title>``, so screen readers and
printouts get the same story. Hidden figures (a group under the threshold) are
drawn as a pale hatched bar labelled "fewer than 5", never as a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

INK = "#1d2433"
MUTED = "#5f6b7a"
GRID = "#e3e7ee"
PRIMARY = "#1f5f8b"
ACCENT = "#e07a3f"
HIDDEN = "#c9d0da"


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start",
          fill: str = INK, weight: str = "400") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>')


def _frame(width: int, height: int, title: str, body: list[str], chart_id: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
        f'aria-labelledby="{chart_id}-title" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        '<defs><pattern id="hatch-' + chart_id + '" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="6" height="6" fill="#eef1f5"/><line x1="0" y1="0" x2="0" y2="6" '
        f'stroke="{HIDDEN}" stroke-width="3"/></pattern></defs>'
        + "".join(body) + "</svg>"
    )


def placeholder(width: int, title: str, note: str, chart_id: str) -> str:
    return _frame(width, 80, title, [
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="79" rx="8" fill="#f7f8fa" '
        f'stroke="{GRID}"/>',
        _text(width / 2, 45, note, size=13, anchor="middle", fill=MUTED),
    ], chart_id)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: hidden (group too small) or not yet
    caption: str  # shown above the bar: "83 %", "fewer than 5", "–"
    hidden: bool = False


def columns(bars: Sequence[Bar], *, title: str, maximum: float, chart_id: str,
            axis: Sequence[tuple[float, str]] = (), empty: str = "", width: int = 640,
            height: int = 240) -> str:
    """Vertical bars (meeting rate per month, ratings 1 to 5)."""
    if not bars or (empty and all(b.value is None and not b.hidden for b in bars)):
        return placeholder(width, title, empty, chart_id)
    left, right, top, bottom = 44, 12, 22, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    body: list[str] = []
    for value, label in axis:
        y = top + plot_h * (1 - value / maximum)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(left - 8, y + 4, label, size=11, anchor="end", fill=MUTED))
    slot = plot_w / len(bars)
    bar_w = min(56.0, slot * 0.62)
    for index, bar in enumerate(bars):
        x = left + slot * index + (slot - bar_w) / 2
        centre = x + bar_w / 2
        if bar.hidden:
            h = plot_h * 0.18
            body.append(f'<rect class="bar hidden" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                        f'width="{bar_w:.1f}" height="{h:.1f}" rx="3" '
                        f'fill="url(#hatch-{chart_id})"/>')
            body.append(_text(centre, top + plot_h - h - 6, bar.caption, size=10,
                              anchor="middle", fill=MUTED))
        elif bar.value is not None:
            h = max(plot_h * bar.value / maximum, 1.5 if bar.value else 0)
            body.append(f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                        f'width="{bar_w:.1f}" height="{h:.1f}" rx="3" fill="{PRIMARY}"/>')
            body.append(_text(centre, top + plot_h - h - 6, bar.caption, size=12,
                              anchor="middle", weight="600"))
        else:
            body.append(_text(centre, top + plot_h - 6, bar.caption, size=12,
                              anchor="middle", fill=MUTED))
        body.append(_text(centre, height - 12, bar.label, size=11, anchor="middle",
                          fill=MUTED))
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="{MUTED}"/>')
    return _frame(width, height, title, body, chart_id)


@dataclass(frozen=True)
class Pair:
    label: str
    first: int | None
    second: int | None


def paired_rows(rows: Sequence[Pair], *, title: str, legend: tuple[str, str], hidden: str,
                chart_id: str, empty: str, width: int = 640) -> str:
    """Two horizontal bars per row (topics chosen vs. discussed)."""
    if not rows:
        return placeholder(width, title, empty, chart_id)
    label_w, right, top, row_h = 230, 64, 34, 36
    plot_w = width - label_w - right
    height = top + row_h * len(rows) + 8
    biggest = max([r.first or 0 for r in rows] + [r.second or 0 for r in rows] + [1])
    body = [
        f'<rect x="{label_w}" y="6" width="12" height="12" rx="2" fill="{PRIMARY}"/>',
        _text(label_w + 18, 16, legend[0], size=11, fill=MUTED),
        f'<rect x="{label_w + 170}" y="6" width="12" height="12" rx="2" fill="{ACCENT}"/>',
        _text(label_w + 188, 16, legend[1], size=11, fill=MUTED),
    ]
    for index, row in enumerate(rows):
        y = top + index * row_h
        label = row.label if len(row.label) <= 34 else row.label[:33] + "…"
        body.append(_text(label_w - 10, y + 17, label, size=12, anchor="end"))
        for offset, value, colour in ((0, row.first, PRIMARY), (15, row.second, ACCENT)):
            bar_y = y + 3 + offset
            if value is None:
                body.append(f'<rect class="bar hidden" x="{label_w}" y="{bar_y}" width="36" '
                            f'height="12" rx="2" fill="url(#hatch-{chart_id})"/>')
                body.append(_text(label_w + 42, bar_y + 10, hidden, size=10, fill=MUTED))
                continue
            w = plot_w * value / biggest
            body.append(f'<rect class="bar" x="{label_w}" y="{bar_y}" width="{w:.1f}" '
                        f'height="12" rx="2" fill="{colour}"/>')
            body.append(_text(label_w + w + 6, bar_y + 10, str(value), size=11))
    return _frame(width, height, title, body, chart_id)


def funnel(stages: Sequence[tuple[str, int, str]], *, title: str, chart_id: str, empty: str,
           width: int = 640) -> str:
    """Centred bars, one per stage, narrowing as people drop out."""
    total = stages[0][1] if stages else 0
    if not total:
        return placeholder(width, title, empty, chart_id)
    label_w, row_h, top = 200, 38, 6
    plot_w = width - label_w - 90
    height = top + row_h * len(stages) + 4
    body: list[str] = []
    for index, (label, count, caption) in enumerate(stages):
        y = top + index * row_h
        w = max(plot_w * count / total, 2.0 if count else 0.0)
        x = label_w + (plot_w - w) / 2
        shade = 0.35 + 0.65 * (1 - index / max(len(stages) - 1, 1))
        body.append(_text(label_w - 12, y + 20, label, size=12, anchor="end"))
        body.append(f'<rect class="bar" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="26" '
                    f'rx="4" fill="{PRIMARY}" fill-opacity="{shade:.2f}"/>')
        body.append(_text(label_w + plot_w + 10, y + 21, caption, size=12, weight="600"))
    return _frame(width, height, title, body, chart_id)
