"""Sets up the process environment before Django reads its settings.

The settings read the environment once, at import, and pytest-django imports them in its
``pytest_load_initial_conftests`` hook, before any conftest.py is loaded; so this is a plugin
named in pyproject.toml (``-p tests.testenv``), not a conftest.
"""

import os
import shutil
import signal
import tempfile

import pytest


# A wrapper, not tryfirst: pytest-django's hook is tryfirst too and is registered after
# ``-p`` plugins, so it would run first.
@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser, args):
    database = os.environ.get("PARLOUR_TEST_DB", "sqlite")
    if database not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"PARLOUR_TEST_DB={database!r}: use sqlite or postgres")

    # CI timeouts end a run with SIGTERM, which would skip every cleanup; as an interrupt it
    # still stops the server and deletes the temporary folders.
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)
        early_config.add_cleanup(lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))

    # The settings derive every path (SQLite file, secret key, media) from this folder.
    data_dir = tempfile.mkdtemp(prefix="parlour-test-data-")
    early_config.add_cleanup(lambda: shutil.rmtree(data_dir, ignore_errors=True))
    os.environ["PARLOUR_DATA_DIR"] = data_dir

    # A URL from the developer's shell would point the tests at a real database.
    os.environ.pop("PARLOUR_DATABASE_URL", None)
    os.environ.pop("PARLOUR_REDIS_URL", None)  # likewise a real Redis; the Redis tests start their own
    options = parser.parse_known_args(args)
    if database == "postgres" and not (options.help or options.version):
        from tests.pgserver import PostgresServer

        server = PostgresServer()
        early_config.add_cleanup(server.stop)
        server.start()
        os.environ["PARLOUR_DATABASE_URL"] = server.url

    return (yield)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
