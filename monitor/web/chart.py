"""The incident chart: mentions per interval (bars) and engagement (line), as server-side SVG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from monitor.clock import from_iso

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 52, 12, 28
MAX_BARS = 48
_STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400)  # bucket sizes, seconds


@dataclass(frozen=True, slots=True)
class Series:
    """Mentions per bucket and total engagement at each bucket's end, oldest first."""

    starts: list[datetime]
    step: int  # seconds per bucket
    mentions: list[int]
    engagement: list[int]


def series(times: Sequence[datetime], snapshots: Sequence[Mapping[str, Any]]) -> Series:
    """Bucket the incident's mention times and engagement snapshots."""
    observed = [(from_iso(s["observed_at"]), s) for s in snapshots]
    moments = [*times, *(t for t, _ in observed if t is not None)]
    if not moments:
        return Series([], 60, [], [])
    first, last = min(moments), max(moments)
    span = (last - first).total_seconds()
    step = next((s for s in _STEPS if span / s < MAX_BARS), _STEPS[-1])
    origin = datetime.fromtimestamp(first.timestamp() // step * step, first.tzinfo)
    count = int((last - origin).total_seconds() // step) + 1
    starts = [origin + timedelta(seconds=step * i) for i in range(count)]
    mentions = [0] * count
    for t in times:
        mentions[int((t - origin).total_seconds() // step)] += 1
    # Engagement is a running total: each mention's latest counters as of the bucket's end.
    latest: dict[int, int] = {}
    engagement = []
    ordered = sorted((t, s) for t, s in observed if t is not None)
    index = 0
    for start in starts:
        end = start + timedelta(seconds=step)
        while index < len(ordered) and ordered[index][0] < end:
            snap = ordered[index][1]
            latest[int(snap["mention_id"])] = sum(
                int(snap.get(k) or 0) for k in ("likes", "shares", "comments")
            )
            index += 1
        engagement.append(sum(latest.values()))
    return Series(starts, step, mentions, engagement)


def _label(when: datetime, step: int) -> str:
    return when.strftime("%d %b" if step >= 86400 else "%H:%M")


def render_svg(data: Series) -> str:
    """An accessible SVG chart; empty string when there is nothing to draw."""
    if not data.starts:
        return ""
    n = len(data.starts)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / n
    top_m = max(max(data.mentions), 1)
    top_e = max(max(data.engagement), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'class="chart" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">Mentions per {data.step // 60} min (bars, left axis) and '
        f"engagement (line, right axis); peak {top_m} mentions, {top_e} interactions</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'class="axis"/>',
    ]
    for i, count in enumerate(data.mentions):
        h = plot_h * count / top_m
        x = LEFT + i * bar_w
        parts.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{max(bar_w - 2, 1):.1f}" height="{h:.1f}"><title>'
            f"{escape(_label(data.starts[i], data.step))}: {count} mentions</title></rect>"
        )
    if top_e > 1 or any(data.engagement):
        points = " ".join(
            f"{LEFT + (i + 0.5) * bar_w:.1f},{TOP + plot_h - plot_h * v / top_e:.1f}"
            for i, v in enumerate(data.engagement)
        )
        parts.append(f'<polyline class="line" fill="none" points="{points}"/>')
    parts += [
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" class="tick">{top_m}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" class="tick">0</text>',
        f'<text x="{LEFT + plot_w + 6}" y="{TOP + 10}" class="tick eng">{top_e}</text>',
    ]
    for i in sorted({0, n // 2, n - 1}):
        x = LEFT + (i + 0.5) * bar_w
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="tick">'
            f"{escape(_label(data.starts[i], data.step))}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
