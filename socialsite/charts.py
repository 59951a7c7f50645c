"""Server-rendered SVG charts: no chart library, no CDN, no script, no inline style (presentation
attributes only, which a Content-Security-Policy without 'unsafe-inline' allows)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 150
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 10, 26  # margins for the axis labels


def _label(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def line_chart_svg(points: Sequence[tuple[datetime, int]], *, title: str, chart_id: str) -> SafeString:
    """One series as an accessible inline SVG line chart: time on x, value on y, min/max labelled.

    ``points`` are ``(time, value)`` in time order; an empty list gives a chart that says "no data".
    ``chart_id`` must be unique in the page (it ties the title and description to the image).
    """
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    if not points:
        desc = "No data yet."
        body = format_html(
            '<text x="{}" y="{}" text-anchor="middle" fill="#59636e">No data yet</text>', WIDTH / 2, HEIGHT / 2
        )
    else:
        t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
        values = [v for _, v in points]
        low, high = min(values), max(values)
        if low == high:
            low, high = max(low - 1, 0), high + 1
        span_t = (t1 - t0) or 1.0

        # Coordinates are formatted to strings here: format_html escapes its arguments to text first.
        def x(moment: datetime) -> str:
            return f"{LEFT + (moment.timestamp() - t0) / span_t * inner_w if t1 > t0 else LEFT + inner_w:.1f}"

        def y(value: int) -> str:
            return f"{TOP + (high - value) / (high - low) * inner_h:.1f}"

        coords = " ".join(f"{x(t)},{y(v)}" for t, v in points)
        last_t, last_v = points[-1]
        # The figures as the page prints them beside the chart (4,040, not 4040), and "1 value".
        desc = (
            f"{len(points):,} value{'' if len(points) == 1 else 's'} from {_label(points[0][0])} to {_label(last_t)}; "
            f"lowest {min(values):,}, highest {max(values):,}, latest {last_v:,}."
        )
        grid = format_html_join(
            "",
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d1d9e0" stroke-width="1"/>'
            '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" font-size="12" fill="#59636e">'
            "{}</text>",
            ((LEFT, y(v), LEFT + inner_w, y(v), LEFT - 6, y(v), f"{v:,}") for v in sorted({low, high})),
        )
        axis = format_html(
            '<text x="{}" y="{}" font-size="12" fill="#59636e">{}</text>'
            '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="#59636e">{}</text>',
            LEFT,
            HEIGHT - 6,
            _label(points[0][0]),
            LEFT + inner_w,
            HEIGHT - 6,
            _label(last_t),
        )
        line = format_html(
            '<polyline points="{}" fill="none" stroke="#0b5cad" stroke-width="2" stroke-linejoin="round"/>'
            '<circle cx="{}" cy="{}" r="3.5" fill="#0b5cad"/>',
            coords,
            x(last_t),
            y(last_v),
        )
        body = grid + axis + line  # SafeString + SafeString stays safe: every piece is built by format_html
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="{view_box}" width="100%" '
        'role="img" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        view_box=f"0 0 {WIDTH} {HEIGHT}",
        id=chart_id,
        title=title,
        desc=desc,
        body=body,
    )
