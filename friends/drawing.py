"""The mutual-friends drawing on a profile: the viewer, the profile's owner and a sample of the people
both know, as a small server-rendered SVG graph.

Same approach as the stats charts (`socialsite/charts.py`): no script, no library, no inline style (SVG
presentation attributes only, which the Content-Security-Policy allows), `role="img"` with a title and
a description. Readable whatever the degree: at most `SAMPLE` mutual friends are drawn, the rest are
one "+N more" node, so a hub with hundreds of friends in common draws the same small picture.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.people import display_name, short_name

SAMPLE = 12  # mutual friends drawn at most; the others are counted in one node
WIDTH = 640
ROW = 30  # vertical distance between two mutual-friend nodes
PILL_W, PILL_H = 140, 24
END_X, END_R = 84, 30  # viewer (left) and owner (right) circles: centre distance from the sides, radius
TOP, BOTTOM = 16, 8  # margins above the first pill and below everything

INK, MUTED, LINE = "#1f2328", "#59636e", "#8c959f"
VIEWER_FILL, OWNER_FILL, LINK = "#0b5cad", "#1a7f37", "#0b5cad"


def _initials(user: AbstractBaseUser) -> str:
    first, last = getattr(user, "first_name", "").strip(), getattr(user, "last_name", "").strip()
    if first and last:
        return (first[0] + last[0]).upper()
    return user.get_username()[:2].upper()


def _end(x: float, y: float, user: AbstractBaseUser, label: str, fill: str) -> SafeString:
    """A big labelled circle: the viewer or the owner."""
    return format_html(
        '<circle cx="{x}" cy="{y}" r="{r}" fill="{fill}"/>'
        '<text x="{x}" y="{y}" text-anchor="middle" dominant-baseline="central" font-size="18" font-weight="700" '
        'fill="#ffffff">{initials}</text>'
        '<text x="{x}" y="{ly}" text-anchor="middle" font-size="14" font-weight="600" fill="{ink}">{label}</text>',
        x=f"{x:.0f}",
        y=f"{y:.0f}",
        r=END_R,
        fill=fill,
        initials=_initials(user),
        ly=f"{y + END_R + 18:.0f}",
        ink=INK,
        label=label,
    )


def mutual_friends_svg(
    *,
    viewer: AbstractBaseUser,
    owner: AbstractBaseUser,
    mutual: Sequence[AbstractBaseUser],
    mutual_count: int,
    are_friends: bool,
    drawing_id: str = "mutual-drawing",
) -> SafeString:
    """The drawing as an inline SVG element.

    ``mutual`` are the mutual friends to draw (only the first ``SAMPLE`` are used); ``mutual_count`` is how
    many there are in all (``len(mutual)`` or more), so the "+N more" node can say the rest.
    ``are_friends`` draws the friendship of viewer and owner as an arc under the others. ``drawing_id`` must be
    unique in the page (it ties the title and the description to the image).
    """
    shown = list(mutual[:SAMPLE])
    more = max(mutual_count - len(shown), 0)
    nodes: list[tuple[str, bool]] = [(short_name(u), False) for u in shown]
    if more:
        nodes.append((f"+{more} more", True))
    rows = max(len(nodes), 3)
    band_bottom = TOP + rows * ROW  # below the last row of pills
    mid_y = TOP + (rows * ROW - (ROW - PILL_H)) / 2
    # The friendship arc dips below every pill: its lowest point (t = 1/2 of the quadratic curve) at
    # `arc_low`, its label under that.
    content_bottom = max(band_bottom, mid_y + END_R + 24)  # the pills, and the two names under the circles
    arc_low = content_bottom + 14
    height = (arc_low + 26 if are_friends else content_bottom) + BOTTOM
    left_x, right_x, centre_x = END_X, WIDTH - END_X, WIDTH / 2
    # Pills centred in their band of rows, so a short list sits level with the two ends.
    first_y = TOP + (rows - len(nodes)) * ROW / 2

    edges = []
    pills = []
    for i, (label, is_more) in enumerate(nodes):
        y = first_y + i * ROW
        cy = y + PILL_H / 2
        dash = ' stroke-dasharray="4 4"' if is_more else ""
        edges.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5"{}/>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5"{}/>',
                f"{left_x + END_R:.0f}",
                f"{mid_y:.0f}",
                f"{centre_x - PILL_W / 2:.0f}",
                f"{cy:.0f}",
                LINE,
                SafeString(dash),
                f"{centre_x + PILL_W / 2:.0f}",
                f"{cy:.0f}",
                f"{right_x - END_R:.0f}",
                f"{mid_y:.0f}",
                LINE,
                SafeString(dash),
            )
        )
        pills.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" rx="12" fill="{}" stroke="{}"{}/>'
                '<text x="{}" y="{}" text-anchor="middle" dominant-baseline="central" font-size="13" '
                'fill="{}">{}</text>',
                f"{centre_x - PILL_W / 2:.0f}",
                f"{y:.0f}",
                PILL_W,
                PILL_H,
                "#f6f8fa" if is_more else "#ffffff",
                LINE,
                SafeString(dash),
                f"{centre_x:.0f}",
                f"{cy:.0f}",
                MUTED if is_more else INK,
                label[:20],
            )
        )
    if not nodes:
        pills.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" dominant-baseline="central" font-size="13" fill="{}">'
                "No friends in common</text>",
                f"{centre_x:.0f}",
                f"{mid_y:.0f}",
                MUTED,
            )
        )

    arc = SafeString("")
    if are_friends:
        start_y = mid_y + END_R
        control_y = 2 * arc_low - start_y  # so that the curve's lowest point is `arc_low`
        arc = format_html(
            '<path d="M {} {} Q {} {} {} {}" fill="none" stroke="{}" stroke-width="2.5"/>'
            '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="{}">friends</text>',
            f"{left_x:.0f}",
            f"{start_y:.0f}",
            f"{centre_x:.0f}",
            f"{control_y:.0f}",
            f"{right_x:.0f}",
            f"{start_y:.0f}",
            LINK,
            f"{centre_x:.0f}",
            f"{arc_low + 18:.0f}",
            MUTED,
        )

    owner_name = display_name(owner)
    relation = f"You and {owner_name} are friends" if are_friends else f"You and {owner_name} are not friends"
    if mutual_count == 0:
        desc = f"{relation} and have no friends in common."
    else:
        names = ", ".join(display_name(u) for u in shown)
        desc = (
            f"{relation}. {mutual_count} mutual friend{'s' if mutual_count != 1 else ''}"
            f"{f', {len(shown)} drawn' if more else ''}: {names}{f', and {more} more' if more else ''}."
        )
    body = (
        format_html_join("", "{}", ((e,) for e in edges))
        + arc
        + format_html_join("", "{}", ((p,) for p in pills))
        + _end(left_x, mid_y, viewer, "You", VIEWER_FILL)
        + _end(right_x, mid_y, owner, short_name(owner), OWNER_FILL)
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="drawing" viewBox="0 0 {w} {h}" width="100%" '
        'role="img" aria-labelledby="{id}-title" aria-describedby="{id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=f"{height:.0f}",
        id=drawing_id,
        title=f"You, {owner_name} and your mutual friends",
        desc=desc,
        body=body,
    )
