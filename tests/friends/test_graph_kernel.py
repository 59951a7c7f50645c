"""The compiled kernel's edges: its JSON is `json.dumps`'s for numbers of every width, and a web process
never loads numba (the lists themselves are compared with networkx and a brute-force rule in
test_graph.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from friends.graph_kernel import suggestion_json

ROOT = Path(__file__).resolve().parents[2]


def _python(script: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a new interpreter at the project's root, with ``env`` added; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_json_is_json_dumps_for_numbers_of_every_width():
    extremes = [0, 1, 9, 10, 99, 100, -1, -10, 2**31, 2**63 - 1, -(2**63) + 1]
    rows = [
        [],  # no suggestions
        [[7, 1, []]],  # no sample
        [[v, abs(v), [v, 0, -v]] for v in extremes],
        [[3, 2, [1, 2]], [4, 1, [5]]],
    ]
    flat = [entry for row in rows for entry in row]
    text, offsets = suggestion_json(
        np.cumsum([0] + [len(row) for row in rows]).astype(np.int64),
        np.array([e[0] for e in flat], dtype=np.int64),
        np.array([e[1] for e in flat], dtype=np.int64),
        np.cumsum([0] + [len(e[2]) for e in flat]).astype(np.int64),
        np.array([v for e in flat for v in e[2]], dtype=np.int64),
    )
    whole = text.tobytes().decode("ascii")
    assert [whole[offsets[r] : offsets[r + 1]] for r in range(len(rows))] == [json.dumps(row) for row in rows]


def test_a_web_process_never_imports_numba():
    """What a web worker loads (settings, every app, the URLconf with every view, the WSGI application)
    leaves numba out: 0.3 s and tens of MiB that only the processes computing batches pay."""
    script = (
        "import sys; from socialsite.wsgi import application; from django.urls import get_resolver; "
        "get_resolver().url_patterns; import friends.graph, friends.suggestions.rebuild; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite')))"
    )
    done = _python(script, DJANGO_SETTINGS_MODULE="socialsite.test_settings")
    assert done.stdout.strip() == "[]"


def test_the_kernel_runs_where_numba_finds_nowhere_to_cache_it():
    """A read-only install run by a user without a writable home leaves numba no cache directory, and
    numba then refuses ``cache=True`` when the module is imported; the kernel compiles in the process
    instead. (No cache locator applies to a source file but the IPython one: numba's own way to get
    there without changing file permissions, which root ignores.)"""
    script = (
        "import numpy as np; from friends.graph import Graph, suggestions_all; "
        "g = Graph.from_edges([(1, 2), (2, 3), (3, 4)]); print(dict(suggestions_all(g))[1])"
    )
    done = _python(script, NUMBA_CACHE_LOCATOR_CLASSES="IPythonCacheLocator")
    assert done.stdout.strip() == "[Suggestion(user_id=3, mutual_count=1, mutual_sample=(2,))]"
    assert "compiled in every process, not cached" in done.stderr
