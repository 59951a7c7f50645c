"""Settings for bench.bench_pages only: production settings plus the bare baseline view's URL.

Never used by the site: the bare view (bench/pages_urls.py) exists so page speed can be read as a ratio to
the cheapest Django page the same server configuration can serve.
"""

from socialsite.settings import *  # noqa: F403
from socialsite.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.pages_urls"
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}, *TEMPLATES[1:]]
