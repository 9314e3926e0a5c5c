"""The ``parlour`` command (I4): help, createorg, demo, the fall-through to Django's
management commands, and ``run`` serving the admin with its static files."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db.models import Sum
from django.test import Client

from parlour.accounts.models import Membership, Organization, Role, User
from parlour.cli import main
from parlour.credits.models import Account
from parlour.meetings.models import Meeting, Status
from tests.factories import OrganizationFactory, UserFactory

PASSWORD = "a-long-enough-password"


def createorg(*extra: str, **fields: str) -> int:
    values = {"name": "Acme Advice", "slug": "acme", "admin_email": "ann@acme.test", "admin_name": "Ann Admin"}
    values.update(fields)
    args = ["createorg"]
    for key, value in values.items():
        args += [f"--{key.replace('_', '-')}", value]
    return main([*args, *extra])


def test_i4_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "demo", "createorg", "parlour migrate"):
        assert command in out


def test_i4_no_subcommand_prints_help(capsys):
    assert main([]) == 0
    assert "createorg" in capsys.readouterr().out


def test_i4_unknown_subcommands_fall_through_to_django(capsys):
    assert main(["check"]) == 0
    assert "System check identified no issues" in capsys.readouterr().out


# --- createorg -------------------------------------------------------------------------


@pytest.mark.django_db
def test_i4_createorg_makes_the_organization_and_its_admin(capsys):
    assert createorg("--password", PASSWORD, admin_email="Ann@Acme.TEST") == 0
    organization = Organization.objects.get(slug="acme")
    assert organization.name == "Acme Advice"
    assert organization.settings.cancellation_notice_hours == 48  # O5 defaults
    admin = User.objects.get(email="ann@acme.test")
    assert admin.name == "Ann Admin"
    assert admin.check_password(PASSWORD)
    assert Membership.objects.get(organization=organization, user=admin).role == Role.ADMIN
    # The first admin of an installation is its operator: they can open the admin area (I5).
    assert admin.is_staff and admin.is_superuser
    assert "acme" in capsys.readouterr().out


@pytest.mark.django_db
def test_i4_createorg_later_admins_are_not_operators():
    UserFactory(is_staff=True, is_superuser=True)
    assert createorg("--password", PASSWORD) == 0
    admin = User.objects.get(email="ann@acme.test")
    assert not admin.is_superuser


@pytest.mark.django_db
def test_i4_createorg_refuses_an_existing_slug(capsys):
    OrganizationFactory(slug="acme", name="The first Acme")
    assert createorg("--password", PASSWORD) == 2
    assert "already exists" in capsys.readouterr().err
    assert Organization.objects.get(slug="acme").name == "The first Acme"
    assert not User.objects.filter(email="ann@acme.test").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"admin_email": "not-an-email"}, "is not an email address"),
        ({"slug": "no spaces"}, "--slug"),
        ({"slug": "x" * 61}, "at most 60"),
        ({"name": "  "}, "--name"),
        ({"admin_name": ""}, "--admin-name"),
    ],
)
def test_i4_createorg_refuses_bad_input_and_changes_nothing(capsys, fields, says):
    assert createorg("--password", PASSWORD, **fields) == 2
    assert says in capsys.readouterr().err
    assert not Organization.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_i4_createorg_refuses_a_weak_password(capsys):
    assert createorg("--password", "1234") == 2
    assert "password is refused" in capsys.readouterr().err
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_i4_createorg_without_password_and_terminal_refuses(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert createorg() == 2
    assert "--password" in capsys.readouterr().err
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_i4_createorg_asks_for_the_password_in_a_terminal(monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert createorg() == 0
    assert User.objects.get(email="ann@acme.test").check_password(PASSWORD)


@pytest.mark.django_db
def test_i4_createorg_refuses_two_different_passwords(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert createorg() == 2
    assert "differ" in capsys.readouterr().err
    assert not User.objects.exists()


@pytest.mark.django_db
def test_i4_createorg_makes_an_existing_person_admin_keeping_their_password():
    person = UserFactory(email="ann@acme.test")
    assert createorg() == 0
    person.refresh_from_db()
    assert person.check_password("correct horse battery")
    assert Membership.objects.get(user=person).role == Role.ADMIN


@pytest.mark.django_db
def test_i4_createorg_refuses_a_new_password_for_an_existing_person(capsys):
    UserFactory(email="ann@acme.test")
    assert createorg("--password", PASSWORD) == 2
    assert "already has an account" in capsys.readouterr().err
    assert not Organization.objects.exists()


# --- demo ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_i4_demo_has_meetings_in_every_status_and_a_balanced_ledger(capsys):
    """I4 with C1: the demo is made through the domain, so the ledger sums to zero."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "ada@parlour.example" in out and "parlour-demo" in out and "slug: demo" in out
    organization = Organization.objects.get(slug="demo")
    meetings = Meeting.objects.filter(organization=organization)
    assert set(meetings.values_list("status", flat=True)) == set(Status.values)
    assert Account.objects.aggregate(total=Sum("balance"))["total"] == 0
    assert not Account.objects.filter(balance__lt=0, kind__in=["wallet", "escrow"]).exists()
    # The meeting whose room is open now: its guest key, and the guest's own page, work.
    key = re.search(r"enters at /join/ with the key (\w+)\.", out).group(1)
    guest_page = re.search(r"(/g/\S+/)$", out, re.M).group(1)
    meeting = Meeting.objects.get(organization=organization, guest_key=key)
    page = Client().get(guest_page)
    assert page.status_code == 200 and meeting.guest_key in page.content.decode()
    assert meeting.expert.name in page.content.decode()


@pytest.mark.django_db
def test_i4_demo_twice_loads_once(capsys):
    assert main(["demo"]) == 0
    counts = (Meeting.objects.count(), User.objects.count(), Account.objects.count())
    capsys.readouterr()
    assert main(["demo"]) == 0
    assert "already loaded" in capsys.readouterr().out
    assert (Meeting.objects.count(), User.objects.count(), Account.objects.count()) == counts


@pytest.mark.django_db
def test_i4_demo_refuses_when_its_people_exist_elsewhere(capsys):
    UserFactory(email="ada@parlour.example")
    assert main(["demo"]) == 2
    assert "already exist" in capsys.readouterr().err
    assert not Organization.objects.filter(slug="demo").exists()


# --- run -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"parlour run exited early:\n{process.stdout.read()}")
        try:
            return get(url)[0]
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"{url} did not answer within {timeout} s")


@pytest.fixture
def served(tmp_path):
    """``parlour run`` in a process of its own, with its own data folder."""
    port = free_port()
    env = {**os.environ, "PARLOUR_DATA_DIR": str(tmp_path / "data")}
    env.pop("PARLOUR_DATABASE_URL", None)  # its own SQLite file, never the test database
    parlour = Path(sys.executable).with_name("parlour")
    process = subprocess.Popen(
        [str(parlour), "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, f"http://127.0.0.1:{port}", tmp_path / "data"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "terminate"])
def test_i4_run_serves_the_admin_with_its_static_files_and_stops_cleanly(served, stop):
    process, url, data = served
    assert wait_for(f"{url}/admin/login/", process) == 200
    status, css = get(f"{url}/static/admin/css/base.css")
    assert status == 200 and b"{" in css
    assert (data / "parlour.sqlite3").exists()
    assert (data / "static" / "admin" / "css" / "base.css").exists()  # collected
    process.send_signal(stop)
    assert process.wait(timeout=30) == 0
    out = process.stdout.read()
    assert f"{url}/" in out and "Parlour stopped." in out
    assert "Traceback" not in out
