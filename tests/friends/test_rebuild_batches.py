"""The full rebuild's fast paths give exactly what the per-user path gives: the batch encoding is
`store.encode`'s text for every ego-Facebook user, and the friendship table read in blocks is its live
rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.db import connection
from django.db.models import F

from friends.graph import Graph, read_edge_list, suggestion_batches, suggestions_all
from friends.live_graph import live_friendships
from friends.models import Friendship
from friends.suggestions import rebuild, store
from tests.support.factories import act

FACEBOOK = Path(__file__).resolve().parents[2] / "friends" / "data" / "facebook_combined.txt.gz"


@pytest.fixture(scope="module")
def facebook() -> Graph:
    return Graph.from_edges(read_edge_list(FACEBOOK))


def test_batch_encoding_is_store_encode_for_every_facebook_user(facebook):
    rng = np.random.default_rng(7)
    # Exclusions too, so some lists are shorter or reach past the excluded ones.
    exclude = {int(u): set(rng.choice(facebook.ids, 40).tolist()) for u in rng.choice(facebook.ids, 300)}
    expected = {uid: store.encode(found) for uid, found in suggestions_all(facebook, exclude=exclude)}
    encoded = {}
    for batch in suggestion_batches(facebook, exclude=exclude, batch_size=300):
        encoded.update(zip(batch.user_ids.tolist(), rebuild.encode_batch(batch), strict=True))
    assert encoded == expected
    assert sum(text != "[]" for text in encoded.values()) > 4000  # real lists, not only empty ones


def test_encoding_of_short_samples_and_empty_lists():
    g = Graph.from_edges([(1, 2), (2, 3), (3, 4), (4, 5), (2, 6)], nodes=[9])
    for sample in (0, 1, 3):
        expected = {uid: store.encode(found) for uid, found in suggestions_all(g, sample=sample)}
        batches = list(suggestion_batches(g, sample=sample, batch_size=2))
        got = {u: t for b in batches for u, t in zip(b.user_ids.tolist(), rebuild.encode_batch(b), strict=True)}
        assert got == expected
        assert got[9] == "[]"


@pytest.mark.django_db
def test_the_table_read_in_blocks_is_the_live_rows(make_graph, monkeypatch):
    users = make_graph(["ab", "ac", "bc", "cd", "de", "ef"])
    act("request", users["a"], users["e"])  # other tables do not leak in
    type(users["f"]).objects.filter(pk=users["f"].pk).update(is_active=False)  # its rows stay, not live
    monkeypatch.setattr(rebuild, "LOAD_SPAN", 2)  # several blocks, some of them empty
    src, dst = rebuild.friendship_arrays()
    live = live_friendships().values_list("user_id", "friend_id")
    if connection.vendor == "postgresql":  # each friendship once: the symmetric constraint holds the other row
        live = live.filter(user_id__lt=F("friend_id"))
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == sorted(live)
    assert len(live) == (5 if connection.vendor == "postgresql" else 10) and Friendship.objects.count() == 12


@pytest.mark.django_db
def test_an_empty_table_reads_as_no_edges():
    src, dst = rebuild.friendship_arrays()
    assert src.size == dst.size == 0


def test_batches_computed_by_several_threads_come_out_the_same_and_in_order(facebook):
    alone = list(suggestion_batches(facebook, batch_size=500))
    threaded = list(suggestion_batches(facebook, batch_size=500, threads=3))
    assert len(threaded) == len(alone) > 3
    for mine, theirs in zip(threaded, alone, strict=True):
        assert all(np.array_equal(x, y) for x, y in zip(mine, theirs, strict=True))


@pytest.mark.parametrize("spread", [1, 10**9])  # dense ids: a flag per id; sparse ones: a binary search
def test_membership_in_the_active_ids_either_way(spread):
    active = np.array([2, 3, 5, 8], dtype=np.int64) * spread
    values = np.array([1, 2, 3, 4, 5, 8, 9, 0], dtype=np.int64) * spread
    assert rebuild._members(values, active).tolist() == [False, True, True, False, True, True, False, False]
    assert rebuild._members(values, active[:0]).tolist() == [False] * values.size
    assert rebuild._members(values[:0], active).tolist() == []


@pytest.mark.parametrize(
    ("tuning", "batch_size"),
    [
        ({"_MASK_SCAN_RATIO": 0}, 700),  # samples: always the row's own list, binary search in the candidate's
        ({"_MASK_SCAN_RATIO": 10**9}, 700),  # samples: always the candidate's list, tested in the row's marks
        ({}, 1),  # one row per batch
    ],
    ids=["row-list", "candidate-list", "one-row-batches"],
)
def test_every_internal_path_of_the_batches_gives_the_same_lists(facebook, monkeypatch, tuning, batch_size):
    from friends import graph

    rng = np.random.default_rng(11)
    exclude = {int(u): set(rng.choice(facebook.ids, 40).tolist()) for u in rng.choice(facebook.ids, 300)}
    expected = list(suggestion_batches(facebook, exclude=exclude, batch_size=700))
    for name, value in tuning.items():
        monkeypatch.setattr(graph, name, value)
    got = list(suggestion_batches(facebook, exclude=exclude, batch_size=batch_size))

    def flat(batches: list) -> list[np.ndarray]:
        """Every array of the batches joined (bounds as lengths): batch sizes may differ, lists may not."""
        fields = [
            [b.user_ids, b.ids, b.counts, b.sample_ids, np.diff(b.bounds), np.diff(b.sample_bounds)] for b in batches
        ]
        return [np.concatenate(column) for column in zip(*fields, strict=True)]

    assert all(np.array_equal(x, y) for x, y in zip(flat(got), flat(expected), strict=True))
