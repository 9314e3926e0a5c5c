"""The tests run on real databases: a SQLite file, or a PostgreSQL server of their own."""

import os
import sqlite3
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction

ON_POSTGRES = os.environ.get("PARLOUR_TEST_DB") == "postgres"
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="SQLite settings")


@pytest.mark.django_db
def test_runs_on_the_database_asked_for():
    assert connection.vendor == ("postgresql" if ON_POSTGRES else "sqlite")


@sqlite_only
@pytest.mark.django_db
def test_sqlite_database_is_a_file_in_wal_mode():
    assert not connection.is_in_memory_db()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_sqlite_transaction_takes_the_write_lock_at_begin():
    """IMMEDIATE mode: a transaction that has only read keeps other writers out already."""
    with transaction.atomic():
        Group.objects.exists()
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


@pytest.mark.django_db(transaction=True)
def test_a_thread_sees_committed_rows_through_its_own_connection():
    """What concurrency tests build on."""
    Group.objects.create(name="committed")
    seen = []

    def look():
        try:
            seen.append(list(Group.objects.values_list("name", flat=True)))
        finally:
            connection.close()

    with transaction.atomic():
        Group.objects.create(name="uncommitted")
        thread = threading.Thread(target=look)
        thread.start()
        thread.join()
    assert seen == [["committed"]]
