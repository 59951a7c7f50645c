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
from django.utils.safestring import SafeString
from markupsafe import escape

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


def _end(x: float, y: float, user: AbstractBaseUser, label: str, fill: str) -> str:
    """A big labelled circle: the viewer or the owner (markup; `label` is escaped here)."""
    return (
        f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{END_R}" fill="{fill}"/>'
        f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="middle" dominant-baseline="central" font-size="18" '
        f'font-weight="700" fill="#ffffff">{escape(_initials(user))}</text>'
        f'<text x="{x:.0f}" y="{y + END_R + 18:.0f}" text-anchor="middle" font-size="14" font-weight="600" '
        f'fill="{INK}">{escape(label)}</text>'
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

    # Markup by f-strings: only names are text from users (escaped); the rest are numbers and constants.
    # (`format_html` per element cost a millisecond a profile: it escapes every number it is given.)
    parts: list[str] = []
    pills: list[str] = []
    for i, (label, is_more) in enumerate(nodes):
        y = first_y + i * ROW
        cy = y + PILL_H / 2
        dash = ' stroke-dasharray="4 4"' if is_more else ""
        parts.append(
            f'<line x1="{left_x + END_R:.0f}" y1="{mid_y:.0f}" x2="{centre_x - PILL_W / 2:.0f}" y2="{cy:.0f}" '
            f'stroke="{LINE}" stroke-width="1.5"{dash}/>'
            f'<line x1="{centre_x + PILL_W / 2:.0f}" y1="{cy:.0f}" x2="{right_x - END_R:.0f}" y2="{mid_y:.0f}" '
            f'stroke="{LINE}" stroke-width="1.5"{dash}/>'
        )
        pills.append(
            f'<rect x="{centre_x - PILL_W / 2:.0f}" y="{y:.0f}" width="{PILL_W}" height="{PILL_H}" rx="12" '
            f'fill="{"#f6f8fa" if is_more else "#ffffff"}" stroke="{LINE}"{dash}/>'
            f'<text x="{centre_x:.0f}" y="{cy:.0f}" text-anchor="middle" dominant-baseline="central" font-size="13" '
            f'fill="{MUTED if is_more else INK}">{escape(label[:20])}</text>'
        )
    if not nodes:
        pills.append(
            f'<text x="{centre_x:.0f}" y="{mid_y:.0f}" text-anchor="middle" dominant-baseline="central" '
            f'font-size="13" fill="{MUTED}">No friends in common</text>'
        )
    if are_friends:
        start_y = mid_y + END_R
        control_y = 2 * arc_low - start_y  # so that the curve's lowest point is `arc_low`
        parts.append(
            f'<path d="M {left_x:.0f} {start_y:.0f} Q {centre_x:.0f} {control_y:.0f} {right_x:.0f} {start_y:.0f}" '
            f'fill="none" stroke="{LINK}" stroke-width="2.5"/>'
            f'<text x="{centre_x:.0f}" y="{arc_low + 18:.0f}" text-anchor="middle" font-size="12" '
            f'fill="{MUTED}">friends</text>'
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
    body = "".join(
        [
            *parts,
            *pills,
            _end(left_x, mid_y, viewer, "You", VIEWER_FILL),
            _end(right_x, mid_y, owner, short_name(owner), OWNER_FILL),
        ]
    )
    title = f"You, {owner_name} and your mutual friends"
    return SafeString(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="drawing" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'role="img" aria-labelledby="{drawing_id}-title" aria-describedby="{drawing_id}-desc">'
        f'<title id="{drawing_id}-title">{escape(title)}</title><desc id="{drawing_id}-desc">{escape(desc)}</desc>'
        f"{body}</svg>"
    )
