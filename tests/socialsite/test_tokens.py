"""API tokens: several per user, listed and revoked by their owner only, "log out everywhere", optional expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

V1 = "/api/v1"


def log_in(username: str, password: str = "correct-horse-42") -> dict:
    response = APIClient().post(f"{V1}/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_token_contract_is_kept_and_each_log_in_is_a_new_token(alice):
    first, second = log_in("alice"), log_in("alice")
    assert set(first) == {"token", "token_id", "expiry"} and first["expiry"] is None
    assert first["token"] != second["token"]
    for issued in (first, second):
        me = client_with(issued["token"]).get(f"{V1}/me/")
        assert me.status_code == 200 and me.json()["username"] == "alice"


def test_tokens_are_stored_as_digests_never_as_themselves(alice):
    token = log_in("alice")["token"]
    stored = AuthToken.objects.get(user=alice)
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128


def test_owner_lists_their_tokens_without_the_secrets_and_sees_which_is_current(alice):
    first, second = log_in("alice"), log_in("alice")
    response = client_with(second["token"]).get(f"{V1}/auth/tokens/")
    assert response.status_code == 200
    listed = response.json()["results"]
    assert [t["token_id"] for t in listed] == [second["token_id"], first["token_id"]]  # newest first
    assert [t["current"] for t in listed] == [True, False]
    text = response.content.decode()
    assert first["token"] not in text and second["token"] not in text
    assert first["token"][:8] not in text  # not even the lookup prefix


def test_revoking_one_token_stops_it_at_once_and_leaves_the_others(alice):
    first, second = log_in("alice"), log_in("alice")
    response = client_with(second["token"]).delete(f"{V1}/auth/tokens/{first['token_id']}/")
    assert response.status_code == 204
    assert client_with(first["token"]).get(f"{V1}/me/").status_code == 401
    assert client_with(second["token"]).get(f"{V1}/me/").status_code == 200


def test_log_out_everywhere_revokes_every_token_including_the_current_one(alice, bob):
    tokens = [log_in("alice")["token"] for _ in range(3)]
    bobs = log_in("bob")["token"]
    response = client_with(tokens[0]).post(f"{V1}/auth/logout-all/")
    assert response.status_code == 200 and response.json() == {"revoked": 3}
    for token in tokens:
        assert client_with(token).get(f"{V1}/me/").status_code == 401
    assert client_with(bobs).get(f"{V1}/me/").status_code == 200


def test_nobody_sees_or_revokes_another_users_tokens(alice, bob):
    alices = log_in("alice")
    bob_client = client_with(log_in("bob")["token"])
    listed = bob_client.get(f"{V1}/auth/tokens/").json()["results"]
    assert alices["token_id"] not in [t["token_id"] for t in listed]
    response = bob_client.delete(f"{V1}/auth/tokens/{alices['token_id']}/")
    unknown = bob_client.delete(f"{V1}/auth/tokens/{'0' * 16}/")
    assert response.status_code == unknown.status_code == 404
    assert response.json() == unknown.json()
    assert client_with(alices["token"]).get(f"{V1}/me/").status_code == 200


def test_session_users_can_list_and_revoke_their_tokens_too(client, alice):
    issued = log_in("alice")
    client.force_login(alice)
    assert [t["token_id"] for t in client.get(f"{V1}/auth/tokens/").json()["results"]] == [issued["token_id"]]
    assert client.get(f"{V1}/auth/tokens/").json()["results"][0]["current"] is False


@pytest.mark.parametrize("path", ["/auth/tokens/", "/auth/logout-all/"])
def test_token_endpoints_need_authentication(db, path):
    client = APIClient()
    response = client.get(f"{V1}{path}") if path.endswith("tokens/") else client.post(f"{V1}{path}")
    assert response.status_code == 401


def test_with_a_lifetime_set_tokens_expire_and_expired_ones_are_refused(alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=2)}
    before = timezone.now()
    issued = log_in("alice")
    stored = AuthToken.objects.get(user=alice)
    assert before + timedelta(hours=2) <= stored.expiry <= timezone.now() + timedelta(hours=2)
    assert issued["expiry"] is not None
    client = client_with(issued["token"])
    assert client.get(f"{V1}/me/").status_code == 200

    AuthToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    assert client.get(f"{V1}/me/").status_code == 401
    assert not AuthToken.objects.filter(pk=stored.pk).exists()


def test_expired_tokens_are_not_listed_and_are_swept_at_the_next_log_in(alice, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=1)}
    old = log_in("alice")
    AuthToken.objects.filter(user=alice).update(expiry=timezone.now() - timedelta(minutes=1))
    new = log_in("alice")
    assert [t["token_id"] for t in client_with(new["token"]).get(f"{V1}/auth/tokens/").json()["results"]] == [
        new["token_id"]
    ]
    assert AuthToken.objects.filter(user=alice).count() == 1
    assert client_with(old["token"]).get(f"{V1}/me/").status_code == 401


def test_an_inactive_users_tokens_stop_working(alice):
    token = log_in("alice")["token"]
    alice.is_active = False
    alice.save()
    assert client_with(token).get(f"{V1}/me/").status_code == 401
