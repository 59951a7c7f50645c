"""Things waiting for the demo account: friend requests both ways, an accepted request, friends' shares.

`manage.py load_graph` gives the demo its people and friendships; `demo_seed` then makes the account that
`scripts/run.sh` prints (fb0) worth logging in to. Every change goes through the ordinary services, so
the ordinary events follow (notifications, suggestion updates), delivered by the workers once they run.

Idempotent: each item is made only when nothing of its kind is there already (any request between the
pair, whatever its state, or a share of that owner with that caption), so a re-run keeps what is there,
including what the person did with it (an accepted or declined request is not sent again).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from PIL import Image, ImageDraw, ImageFont

from . import services
from .models import FriendRequest, Friendship, Share
from .shares import services as share_services

User = get_user_model()

# (caption, picture title or None, link or "") of each friend's share, in order; the friends are the
# demo user's first friends by id, so the same people share on every run and every machine.
DEMO_SHARES: tuple[tuple[str, str | None, str], ...] = (
    ("Sunset over the lake last weekend.", "Lake at sunset", ""),
    ("The lecture notes on message queues, worth a read.", None, "https://en.wikipedia.org/wiki/Message_queue"),
    ("Our team at the hackathon!", "Hackathon team", ""),
    ("How friend suggestions work: friends of friends.", None, "https://en.wikipedia.org/wiki/Triadic_closure"),
    ("New bike, first ride.", "First ride", ""),
)
INCOMING_REQUESTS = 3  # friends of friends who ask the demo user
OUTGOING_REQUESTS = 2  # friends of friends the demo user asked
ACCEPTED_REQUESTS = 1  # friends of friends the demo user asked and who said yes


@dataclass(frozen=True)
class DemoSeedResult:
    requests_sent: int
    requests_accepted: int
    shares_created: int


def demo_picture(title: str, *, seed: int, size: tuple[int, int] = (800, 520)) -> bytes:
    """A PNG of a soft gradient with a few circles and `title` on it, the same for the same arguments."""
    width, height = size
    hue = (seed * 67) % 360
    top, bottom = _hsv(hue, 0.45, 0.95), _hsv((hue + 40) % 360, 0.65, 0.55)
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    for i in range(5):
        r = 40 + 25 * ((seed + i) % 4)
        cx = (seed * 131 + i * 173) % width
        cy = (seed * 71 + i * 97) % (height * 2 // 3)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_hsv((hue + 180 + 20 * i) % 360, 0.35, 1.0))
    font = ImageFont.load_default(size=44)
    box = draw.textbbox((0, 0), title, font=font)
    x, y = (width - (box[2] - box[0])) / 2, height - 110
    draw.rounded_rectangle([x - 20, y - 14, x + box[2] - box[0] + 20, y + box[3] - box[1] + 22], 14, fill=(0, 0, 0))
    draw.text((x, y), title, font=font, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    c = v * s
    x = c * (1 - abs((h / 60) % 2 - 1))
    m = v - c
    r, g, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][math.floor(h / 60) % 6]
    return round((r + m) * 255), round((g + m) * 255), round((b + m) * 255)


def _candidates(user: AbstractBaseUser, limit: int) -> list[AbstractBaseUser]:
    """The `limit` lowest-id people with a friend in common with `user` who are not its friends, or who
    are but through a request (any state) with `user`: so a re-run picks the same people, even after
    the accepted request made one of them a friend. Three queries."""
    friends = set(Friendship.objects.filter(user=user).values_list("friend_id", flat=True))
    asked = set(
        FriendRequest.objects.filter(Q(from_user=user) | Q(to_user=user)).values_list("from_user_id", "to_user_id")
    )
    with_request = {uid for pair in asked for uid in pair} - {user.pk}
    reachable = set(Friendship.objects.filter(user_id__in=friends).values_list("friend_id", flat=True))
    ids = sorted(reachable - (friends - with_request) - {user.pk})[:limit]
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _untouched(a: AbstractBaseUser, b: AbstractBaseUser) -> bool:
    """Neither a request (in any state) between the two nor a friendship: a seed may act on the pair."""
    requests = FriendRequest.objects.filter(Q(from_user=a, to_user=b) | Q(from_user=b, to_user=a))
    return not requests.exists() and not Friendship.objects.filter(user=a, friend=b).exists()


def demo_seed(*, user: AbstractBaseUser) -> DemoSeedResult:
    """Give `user` requests both ways, one accepted request and friends' shares (pictures and links).

    Needs `user` to have friends (the loaded graph); with none, only what needs no friend is made (nothing).
    Each item is its own service call (one transaction each); see the module doc for idempotence.
    """
    candidates = _candidates(user, INCOMING_REQUESTS + OUTGOING_REQUESTS + ACCEPTED_REQUESTS)
    incoming = candidates[:INCOMING_REQUESTS]
    outgoing = candidates[INCOMING_REQUESTS : INCOMING_REQUESTS + OUTGOING_REQUESTS]
    accepted = candidates[INCOMING_REQUESTS + OUTGOING_REQUESTS :]
    sent = accepted_count = 0
    for other in incoming:
        if _untouched(other, user):
            services.friend_request_send(from_user=other, to_user=user)
            sent += 1
    for other in outgoing:
        if _untouched(user, other):
            services.friend_request_send(from_user=user, to_user=other)
            sent += 1
    for other in accepted:
        if _untouched(user, other):
            request = services.friend_request_send(from_user=user, to_user=other)
            services.friend_request_accept(request_id=request.pk, user=other)
            sent += 1
            accepted_count += 1

    friends = list(
        User.objects.filter(pk__in=Friendship.objects.filter(user=user).values("friend_id"), is_active=True).order_by(
            "pk"
        )[: len(DEMO_SHARES)]
    )
    created = 0
    for i, (owner, (caption, picture, url)) in enumerate(zip(friends, DEMO_SHARES, strict=False)):
        if Share.objects.filter(owner=owner, caption=caption).exists():
            continue
        file = None
        if picture is not None:
            name = picture.lower().replace(" ", "-") + ".png"
            file = SimpleUploadedFile(name, demo_picture(picture, seed=i + 1), content_type="image/png")
        share_services.share_create(owner=owner, file=file, url=url, caption=caption)
        created += 1
    return DemoSeedResult(requests_sent=sent, requests_accepted=accepted_count, shares_created=created)
