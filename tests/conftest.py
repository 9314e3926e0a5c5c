"""Settings for the whole suite. The database itself is chosen in testenv.py, before
Django starts: SQLite by default, a PostgreSQL server of our own with PARLOUR_TEST_DB=postgres.

Concurrency tests use ``@pytest.mark.django_db(transaction=True)``: a plain ``django_db``
test runs inside one transaction, which under SQLite's IMMEDIATE mode holds the write lock
for the whole test, and under PostgreSQL is invisible to other connections. Each thread
gets its own connection; close it (``connection.close()``) before the thread ends, or
PostgreSQL refuses to drop the test database at the end of the run.

Mail goes to ``django.core.mail.outbox`` (the ``mailoutbox`` fixture): Django's test
environment swaps in the locmem backend.
"""

import pytest
from django.conf import settings
from django.utils import translation


def pytest_configure(config: pytest.Config) -> None:
    # A real hasher costs a noticeable fraction of a second per password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_report_header(config: pytest.Config) -> str:
    db = settings.DATABASES["default"]
    where = f" at {db['HOST']}:{db['PORT']}" if db.get("HOST") else ""
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]}{where}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # A file rather than Django's in-memory default, so that several connections
        # (one per thread) share one database.
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        db.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with no rate-limit counters (the cache outlives a test, and ids are
    used again)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_unless_asked() -> None:
    """Each test starts in English (D4): a request in another language leaves it active in
    the thread, and the domain's words follow the active language."""
    translation.deactivate()
    yield
    translation.deactivate()
