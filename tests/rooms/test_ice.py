"""STUN/TURN servers for the built-in room (docs/rooms.md): the environment's list is checked
when Parlour starts, and TURN passwords are coturn's use-auth-secret ones."""

import base64
import hashlib
import hmac
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from parlour.rooms.ice import ice_servers, parse_ice_servers, parse_turn

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 1772442000
STUN = "stun:stun.example.org:3478"
TURN = ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349?transport=tcp"]


@pytest.fixture
def turn(settings):
    settings.PARLOUR_ICE_SERVERS = [{"urls": [STUN]}]
    settings.PARLOUR_TURN_URLS = TURN
    settings.PARLOUR_TURN_SECRET = "north wind"
    settings.PARLOUR_TURN_TTL = 3600
    return settings


# --- PARLOUR_ICE_SERVERS ------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "  ", "[]", []])
def test_no_ice_servers_by_default(value):
    assert parse_ice_servers(value) == []


def test_ice_servers_are_urls_or_rtc_ice_server_objects():
    value = (
        '["stun:stun.example.org", {"urls": "stuns:stun.example.org:5349"},'
        ' {"urls": ["turn:t.example.org", "turns:t.example.org:443"], "username": "u", "credential": "c"}]'
    )
    assert parse_ice_servers(value) == [
        {"urls": ["stun:stun.example.org"]},
        {"urls": ["stuns:stun.example.org:5349"]},
        {"urls": ["turn:t.example.org", "turns:t.example.org:443"], "username": "u", "credential": "c"},
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("stun:stun.example.org", "PARLOUR_ICE_SERVERS is not valid JSON"),
        ('{"urls": "stun:a.example.org"}', "must be a JSON list of servers, not dict"),
        ('["https://stun.example.org"]', "item 1: 'https://stun.example.org' is not a server URL; it must start with"),
        ('["stun:a.example.org", "stun:"]', "item 2: 'stun:' is not a server URL"),
        ('["stun:a.example.org", 3478]', "item 2 must be a URL or an object with urls, not int"),
        ('[{"url": "stun:a.example.org"}]', 'item 1 has unknown keys url (write "urls")'),
        ('[{"urls": []}]', "item 1 needs urls: a URL or a non-empty list of URLs"),
        ('[{"urls": ["stun:a.example.org", null]}]', "item 1: None is not a server URL"),
        ('[{"urls": "stun:a.example.org", "username": 7}]', "item 1: username must be a non-empty string"),
        ('["turn:t.example.org"]', "item 1 is a TURN server and needs a username and a credential"),
        ('[{"urls": "turns:t.example.org", "username": "u"}]', "needs a username and a credential"),
    ],
)
def test_bad_ice_servers_are_refused_saying_what_is_wrong(value, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        parse_ice_servers(value)
    assert message in str(refused.value)
    assert str(refused.value).startswith("PARLOUR_ICE_SERVERS")


def test_ice_module_imports_no_app_so_settings_can_import_it():
    code = "import sys, parlour.rooms.ice; print(sorted(m for m in sys.modules if m.startswith('parlour')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['parlour', 'parlour.rooms', 'parlour.rooms.ice']"


# --- PARLOUR_TURN_URLS / _SECRET / _TTL ---------------------------------------------------


def test_turn_settings_are_read_together():
    assert parse_turn("", "", None) == ([], "", 21600)
    assert parse_turn(" turn:t.example.org:3478 , turns:t.example.org:5349,", "s", "600") == (
        ["turn:t.example.org:3478", "turns:t.example.org:5349"],
        "s",
        600,
    )


@pytest.mark.parametrize(
    ("urls", "secret", "ttl", "message"),
    [
        ("turn:t.example.org", "", None, "PARLOUR_TURN_URLS is set but PARLOUR_TURN_SECRET is empty"),
        ("", "s", None, "PARLOUR_TURN_SECRET is set but PARLOUR_TURN_URLS is empty"),
        ("stun:t.example.org", "s", None, "PARLOUR_TURN_URLS: 'stun:t.example.org' is not a server URL"),
        ("turn:t.example.org", "s", "6h", "PARLOUR_TURN_TTL must be a whole number of seconds, not '6h'"),
        ("turn:t.example.org", "s", "0", "PARLOUR_TURN_TTL must be more than 0 seconds"),
    ],
)
def test_bad_turn_settings_are_refused(urls, secret, ttl, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_turn(urls, secret, ttl)


# --- what a browser gets ------------------------------------------------------------------


def test_without_turn_the_browser_gets_the_configured_servers(settings):
    settings.PARLOUR_ICE_SERVERS = [{"urls": [STUN]}]
    settings.PARLOUR_TURN_URLS, settings.PARLOUR_TURN_SECRET = [], ""
    assert ice_servers(participant_key="client-7", now=NOW) == [{"urls": [STUN]}]


def test_turn_credentials_are_coturn_rest_api_ones(turn):
    """Username "<expiry>:<key>"; password base64(HMAC-SHA1(static-auth-secret, username)),
    as coturn's use-auth-secret checks it (draft-uberti-behave-turn-rest)."""
    stun, relay = ice_servers(participant_key="expert-7", now=NOW)

    assert stun == {"urls": [STUN]}
    assert relay["urls"] == TURN
    assert relay["username"] == "1772445600:expert-7"  # NOW + PARLOUR_TURN_TTL (1 h)
    expected = hmac.new(b"north wind", b"1772445600:expert-7", hashlib.sha1).digest()
    assert base64.b64decode(relay["credential"]) == expected
    # The same, computed by `openssl dgst -sha1 -hmac "north wind" -binary | base64`.
    assert relay["credential"] == "lRgxpYIJHV5vHaJ5FyDIlamI3k0="


def test_turn_credentials_last_six_hours_by_default(turn):
    del turn.PARLOUR_TURN_TTL
    relay = ice_servers(participant_key="expert-7", now=NOW)[-1]
    assert relay["username"] == f"{int((NOW + timedelta(hours=6)).timestamp())}:expert-7"
    assert relay["credential"] == "SM/j5a+JN1/XPNFt62yunY/5NIs="


def test_each_participant_and_instant_gets_its_own_credential(turn):
    first = ice_servers(participant_key="expert-7", now=NOW)[-1]
    other = ice_servers(participant_key="client-7", now=NOW)[-1]
    later = ice_servers(participant_key="expert-7", now=NOW + timedelta(minutes=1))[-1]
    assert len({first["credential"], other["credential"], later["credential"]}) == 3
    assert later["username"] == "1772445660:expert-7"


def test_settings_left_as_environment_text_work_too(settings):
    settings.PARLOUR_ICE_SERVERS = '["stun:stun.example.org"]'
    settings.PARLOUR_TURN_URLS = "turn:t.example.org, turns:t.example.org:443"
    settings.PARLOUR_TURN_SECRET = "s"
    settings.PARLOUR_TURN_TTL = "60"
    stun, relay = ice_servers(participant_key="k", now=NOW)
    assert stun == {"urls": ["stun:stun.example.org"]}
    assert relay["urls"] == ["turn:t.example.org", "turns:t.example.org:443"]
    assert relay["username"] == "1772442060:k"


def test_a_participant_key_is_needed(turn):
    with pytest.raises(ValueError):
        ice_servers(participant_key="", now=NOW)
