"""PostgreSQL connections as the pages need them: planner costs for data in memory, and statements bound
on the server so psycopg prepares the ones a connection repeats (PostgreSQL then stops planning them)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL settings")


@pytest.mark.django_db
def test_connections_use_planner_costs_for_data_in_memory():
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert float(cursor.fetchone()[0]) == 1.1


@pytest.mark.django_db
def test_a_repeated_query_becomes_a_prepared_statement_of_the_connection():
    from django.contrib.auth import get_user_model

    User = get_user_model()
    for _ in range(6):  # psycopg prepares a statement on its fifth run (prepare_threshold)
        list(User.objects.filter(pk=-1, is_active=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ['%"auth_user"%'])
        assert cursor.fetchone()[0] >= 1


@pytest.mark.django_db
def test_active_user_ids_have_their_own_index_for_the_lists_joins():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'accounts_user_active_id'")
        (definition,) = cursor.fetchone()
    assert "ON public.auth_user USING btree (id) WHERE is_active" in definition
