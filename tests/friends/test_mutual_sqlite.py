"""The mutual friends' check on SQLite, the demo's database (`scripts/run.sh` without DATABASE_URL).

The suite runs on PostgreSQL; the check's prepared statement binds the cached ids as an array there and as
JSON text on SQLite, and takes its page's LIMIT and OFFSET as parameters after them. Here it runs in a
child process on a new SQLite database: a page, its count, and a page past the end (which still counts).
"""

from __future__ import annotations

import json

from tests.support.sqlite_site import run_on_new_sqlite

SCRIPT = """
import json
from django.contrib.auth import get_user_model
from friends import selectors, services

User = get_user_model()
ana, bo, gone = (User.objects.create_user(n, password="x" * 12) for n in ("ana", "bo", "gone"))
common = [User.objects.create_user(f"m{i}", password="x" * 12) for i in range(5)]
for person in [*common, gone]:
    services.friendship_create(user=ana, friend=person)
    services.friendship_create(user=bo, friend=person)
User.objects.filter(pk=gone.pk).update(is_active=False)  # cached as mutual, no longer listable
ids = sorted(u.pk for u in [*common, gone])
pages = [selectors._mutual_listable(ana, bo, ids, limit=2, offset=offset) for offset in (0, 2, 4, 10)]
print(json.dumps([[[p.username for p in people], count] for people, count in pages]))
"""


def test_the_mutual_friends_check_pages_and_counts_on_a_new_sqlite_database(tmp_path):
    pages = json.loads(run_on_new_sqlite(tmp_path, SCRIPT).strip().splitlines()[-1])
    assert pages == [[["m0", "m1"], 5], [["m2", "m3"], 5], [["m4"], 5], [[], 5]]
