"""friends.graph against networkx on the real ego-Facebook graph, and against its own rules on random graphs.

No database: the graph module is pure, so these tests only read the shipped edge list.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from friends.graph import (
    Graph,
    Suggestion,
    mutual_friends,
    read_edge_list,
    suggestions_all,
    suggestions_for,
    suggestions_from_lists,
)

FACEBOOK = Path(__file__).resolve().parents[2] / "friends" / "data" / "facebook_combined.txt.gz"


@pytest.fixture(scope="module")
def facebook_edges() -> np.ndarray:
    return read_edge_list(FACEBOOK)


@pytest.fixture(scope="module")
def facebook(facebook_edges) -> Graph:
    return Graph.from_edges(facebook_edges)


@pytest.fixture(scope="module")
def facebook_nx(facebook_edges) -> nx.Graph:
    g = nx.Graph()
    g.add_edges_from(facebook_edges.tolist())
    return g


def networkx_top(g: nx.Graph, user: int, k: int = 10) -> list[tuple[int, int]]:
    """Independent reference: count neighbours of neighbours in networkx, rank by (-count, id).

    Counted by `Counter` over the chained neighbour lists (its counting loop is C), then the user and their
    friends dropped: the same rule as one test per pair, several times faster over all 4,039 users."""
    friends = g.adj[user]
    counts = Counter(itertools.chain.from_iterable(g.adj[friend] for friend in friends))
    for known in (user, *friends):
        counts.pop(known, None)
    return heapq.nsmallest(k, counts.items(), key=lambda item: (-item[1], item[0]))


@pytest.fixture(scope="module")
def facebook_reference(facebook_nx) -> dict[int, list[tuple[int, int]]]:
    return {user: networkx_top(facebook_nx, user) for user in facebook_nx.nodes}


def test_shipped_edge_list_is_the_whole_ego_facebook_graph(facebook_edges, facebook):
    assert facebook_edges.shape == (88_234, 2)
    assert (facebook.n, facebook.edge_count) == (4_039, 88_234)
    assert facebook.degree(107) == 1_045


def test_suggestions_all_equals_networkx_for_every_facebook_user(facebook, facebook_nx, facebook_reference):
    seen = 0
    for user, suggestions in suggestions_all(facebook, k=10):
        assert [(s.user_id, s.mutual_count) for s in suggestions] == facebook_reference[user], user
        for s in suggestions:
            common = sorted(nx.common_neighbors(facebook_nx, user, s.user_id))
            assert s.mutual_count == len(common)
            assert list(s.mutual_sample) == common[:3]
        seen += 1
    assert seen == facebook_nx.number_of_nodes()


def test_suggestions_for_equals_networkx_for_every_facebook_user(facebook, facebook_reference):
    for user, expected in facebook_reference.items():
        assert [(s.user_id, s.mutual_count) for s in suggestions_for(facebook, user, k=10)] == expected, user


def from_lists(g: Graph, user: int, **options) -> list[Suggestion]:
    """`suggestions_from_lists` fed as the worker feeds it: the user's friends, each friend's friends
    (reversed, since Redis sets come in no particular order)."""
    friends = np.array(g.friends(user)[::-1])
    return suggestions_from_lists(user, friends, [np.array(g.friends(f)[::-1]) for f in friends], **options)


def test_suggestions_from_lists_equals_networkx_for_every_facebook_user(facebook, facebook_nx, facebook_reference):
    for user, expected in facebook_reference.items():
        found = from_lists(facebook, user, k=10)
        assert [(s.user_id, s.mutual_count) for s in found] == expected, user
        assert found == suggestions_for(facebook, user, k=10), user  # samples too


def test_mutual_friends_equals_networkx_on_1000_facebook_pairs_friends_and_strangers(facebook, facebook_nx):
    rng = random.Random(20240611)
    edges = list(facebook_nx.edges)
    nodes = sorted(facebook_nx.nodes)
    pairs = [rng.choice(edges) for _ in range(500)] + [tuple(rng.sample(nodes, 2)) for _ in range(500)]
    adjacency = {u: set(facebook_nx[u]) for u in nodes}
    friends = sum(facebook_nx.has_edge(a, b) for a, b in pairs)
    assert 500 <= friends < 1000  # both kinds of pair are really covered
    for a, b in pairs:
        expected = sorted(nx.common_neighbors(facebook_nx, a, b))
        assert mutual_friends(facebook, a, b) == expected
        assert mutual_friends(adjacency, a, b) == expected
    assert any(mutual_friends(facebook, a, b) for a, b in pairs)


def test_batches_of_any_size_give_the_same_facebook_suggestions(facebook):
    whole = dict(suggestions_all(facebook, batch_size=facebook.n))
    assert dict(suggestions_all(facebook, batch_size=97)) == whole


def test_exclusions_remove_only_the_excluded_and_let_the_next_best_in(facebook, facebook_nx):
    user = 107
    before = suggestions_for(facebook, user, k=10)
    dropped = {before[0].user_id, before[3].user_id}
    after = suggestions_for(facebook, user, k=10, exclude=dropped | {10**9})  # unknown ids are ignored
    expected = [(u, c) for u, c in networkx_top(facebook_nx, user, k=12) if u not in dropped][:10]
    assert [(s.user_id, s.mutual_count) for s in after] == expected
    from_batch = dict(suggestions_all(facebook, exclude={user: dropped}))
    assert from_batch[user] == after


def test_constructors_agree_and_normalise_duplicates_self_loops_and_isolated_users():
    from_edges = Graph.from_edges([(5, 9), (9, 5), (9, 2), (7, 7), (2, 5), (2, 5)], nodes=[40])
    from_adjacency = Graph.from_adjacency({5: {9, 2}, 9: {5}, 2: {9}, 7: set(), 40: set()})
    assert from_edges.ids.tolist() == [2, 5, 7, 9, 40]
    assert from_edges.edge_count == 3
    for g in (from_edges, from_adjacency):
        assert g.friends(9) == [2, 5]
        assert g.friends(7) == []
        assert g.degree(123) == 0
    assert (from_edges.adjacency != from_adjacency.adjacency).nnz == 0


def test_unknown_or_friendless_users_get_nothing_and_k_zero_gives_empty_lists():
    g = Graph.from_edges([(1, 2), (2, 3)], nodes=[4])
    assert suggestions_for(g, 999) == []
    assert suggestions_for(g, 4) == []
    assert mutual_friends(g, 1, 999) == []
    assert suggestions_for(g, 1) == [Suggestion(3, 1, (2,))]
    assert dict(suggestions_all(g)) == {1: [Suggestion(3, 1, (2,))], 2: [], 3: [Suggestion(1, 1, (2,))], 4: []}
    assert dict(suggestions_all(g, k=0)) == {1: [], 2: [], 3: [], 4: []}


# --- Property-based: random small graphs with sparse, unordered ids ---------------------------------


@st.composite
def graphs(draw) -> dict[int, set[int]]:
    ids = draw(st.lists(st.integers(0, 10**6), min_size=1, max_size=25, unique=True))
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=100))
    adjacency: dict[int, set[int]] = {u: set() for u in ids}
    for u, v in pairs:
        if u != v:
            adjacency[u].add(v)
            adjacency[v].add(u)
    return adjacency


@st.composite
def graphs_with_exclusions(draw) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    adjacency = draw(graphs())
    ids = sorted(adjacency)
    exclude = draw(
        st.dictionaries(
            st.sampled_from(ids),
            st.sets(st.one_of(st.sampled_from(ids), st.integers(2 * 10**6, 3 * 10**6)), max_size=6),
            max_size=len(ids),
        )
    )
    return adjacency, exclude


def brute_force(adjacency: dict[int, set[int]], user: int, k: int, exclude: set[int], sample: int) -> list[Suggestion]:
    """The ranking rule written out literally, for every candidate."""
    ranked = []
    for candidate in adjacency:
        if candidate == user or candidate in adjacency[user] or candidate in exclude:
            continue
        mutual = sorted(adjacency[user] & adjacency[candidate])
        if mutual:
            ranked.append(Suggestion(candidate, len(mutual), tuple(mutual[:sample])))
    return sorted(ranked, key=lambda s: (-s.mutual_count, s.user_id))[:k]


PROPERTIES = settings(suppress_health_check=[HealthCheck.too_slow])  # examples: the profile's (tests/conftest.py)


@PROPERTIES
@given(
    data=graphs_with_exclusions(),
    k=st.integers(0, 8),
    sample=st.integers(0, 4),
    batch_size=st.integers(1, 9),
)
def test_suggestions_all_equals_suggestions_for_and_the_literal_rule(data, k, sample, batch_size):
    adjacency, exclude = data
    g = Graph.from_adjacency(adjacency)
    everyone = dict(suggestions_all(g, k=k, batch_size=batch_size, exclude=exclude, sample=sample))
    assert list(everyone) == sorted(adjacency)
    for user in adjacency:
        one = suggestions_for(g, user, k=k, exclude=exclude.get(user, frozenset()), sample=sample)
        assert everyone[user] == one
        assert from_lists(g, user, k=k, exclude=exclude.get(user, frozenset()), sample=sample) == one
        assert one == brute_force(adjacency, user, k, exclude.get(user, set()), sample)


@PROPERTIES
@given(data=graphs_with_exclusions(), k=st.integers(1, 6))
def test_suggestions_never_include_self_friends_or_excluded_and_counts_match_mutual_friends(data, k):
    adjacency, exclude = data
    g = Graph.from_adjacency(adjacency)
    for user, suggestions in suggestions_all(g, k=k, exclude=exclude):
        ids = [s.user_id for s in suggestions]
        assert len(ids) == len(set(ids)) <= k
        assert user not in ids
        assert not set(ids) & adjacency[user]
        assert not set(ids) & exclude.get(user, set())
        assert [(-s.mutual_count, s.user_id) for s in suggestions] == sorted(
            (-s.mutual_count, s.user_id) for s in suggestions
        )
        for s in suggestions:
            mutual = mutual_friends(g, user, s.user_id)
            assert s.mutual_count == len(mutual) > 0
            assert set(s.mutual_sample) <= set(mutual)
            assert list(s.mutual_sample) == mutual[:3]


@PROPERTIES
@given(adjacency=graphs(), data=st.data())
def test_mutual_friends_is_symmetric_and_agrees_between_graph_and_plain_sets(adjacency, data):
    g = Graph.from_adjacency(adjacency)
    ids = sorted(adjacency)
    a = data.draw(st.sampled_from(ids))
    b = data.draw(st.sampled_from(ids))
    expected = sorted((adjacency[a] & adjacency[b]) - {a, b})
    assert mutual_friends(g, a, b) == mutual_friends(g, b, a) == expected
    assert mutual_friends(adjacency, a, b) == mutual_friends(adjacency, b, a) == expected
