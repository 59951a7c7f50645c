"""Schemathesis hooks of the API fuzzing (`bench/schemathesis.toml` loads this module).

Authentication as a normal user with an API token obtained from the API itself (`auth/token/`), sent as
`Authorization: Token <token>`. Fetched again after any 401: the fuzzer calls `auth/logout-all/` and
`DELETE auth/tokens/{token_id}/` too, which revoke the token it was using.
The user and the server come from FUZZ_BASE_URL, FUZZ_USERNAME and FUZZ_PASSWORD (set by
`bench.bench_fuzz.run_schemathesis`).
"""

from __future__ import annotations

import os

import requests
import schemathesis


@schemathesis.auth(refresh_interval=300, retry_on=[401])
class TokenAuth:
    def get(self, case, context) -> str:
        response = requests.post(
            f"{os.environ['FUZZ_BASE_URL']}/api/v1/auth/token/",
            json={"username": os.environ["FUZZ_USERNAME"], "password": os.environ["FUZZ_PASSWORD"]},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}
