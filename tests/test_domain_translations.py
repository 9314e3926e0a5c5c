"""D4: the domain's own words — every refusal it raises and the labels of its statuses,
reasons and outcomes — are in the viewer's language too (one catalogue, src/parlour/locale),
and the people who read them see them so: on the pages and in the API's answers, whose
``code`` and ``rule`` stay the same in every language."""

import ast
import gettext
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

import parlour
from parlour.accounts.models import ApiToken
from parlour.core.errors import NOT_FOUND, NotFound
from parlour.meetings import lifecycle, outcome
from parlour.meetings.models import EventKind, Outcome, Status
from parlour.meetings.reasons import RejectReason
from tests.factories import world
from tests.meetings.checks import NOW, fresh
from tests.web.clients import signed_in, text
from tests.web.test_translations import LANGUAGES, entries, unescape

ROOT = Path(parlour.__file__).parent
DOMAIN = ROOT / "locale"
PAGES = ["web", "rooms", "notifications"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def catalogue(folder: Path, language: str) -> list[dict]:
    return entries(folder / language / "LC_MESSAGES" / "django.po")


# --- the catalogue ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_d4_every_domain_message_and_label_is_translated_and_compiled(language):
    folder = DOMAIN / language / "LC_MESSAGES"
    source = catalogue(DOMAIN, language)
    assert len(source) > 200, f"{language}: the domain's catalogue is nearly empty"
    untranslated = [e["msgid"] for e in source if not e["msgstr"] or not all(e["msgstr"].values())]
    assert untranslated == [], f"{language}: not translated"
    assert [e["msgid"] for e in source if "fuzzy" in e["flags"]] == [], f"{language}: marked fuzzy"
    with (folder / "django.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    for entry in source:
        msgid, context = unescape(entry["msgid"]), entry.get("msgctxt")
        if "msgid_plural" in entry:
            said = mo.ngettext(msgid, unescape(entry["msgid_plural"]), 1)
        else:
            said = mo.pgettext(context, msgid) if context else mo.gettext(msgid)
        assert said == unescape(entry["msgstr"][0]), f"{language}: the .mo is older than the .po ({msgid!r})"


@pytest.mark.parametrize("language", LANGUAGES)
def test_d4_translations_keep_exactly_the_placeholders(language):
    """``%(name)s`` of the refusals and ``{side}`` of the timeline's labels: each one is
    filled in, so none may be lost, added or renamed."""
    for entry in catalogue(DOMAIN, language):
        wanted = sorted(PLACEHOLDER.findall(entry["msgid"]))
        for text_ in entry["msgstr"].values():
            assert sorted(PLACEHOLDER.findall(text_)) == wanted, f"{language}: {entry['msgid']!r} → {text_!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_d4_a_word_the_pages_share_is_translated_the_same(language):
    """The domain's catalogue comes first (LOCALE_PATHS): a label the pages also translate
    must say what the pages say, or a page would change its words."""
    pages = {}
    for app in PAGES:
        for entry in catalogue(ROOT / app / "locale", language):
            pages.setdefault((entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural")), entry["msgstr"])
    for entry in catalogue(DOMAIN, language):
        key = (entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural"))
        if key in pages and all(pages[key].values()):
            assert entry["msgstr"] == pages[key], f"{language}: {entry['msgid']!r} differs from the pages' words"


DOMAIN_PACKAGES = ["accounts", "api", "availability", "calendars", "catalog", "core", "credits", "meetings"]
MARKERS = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
REFUSALS = {"DomainError", "refuse", "_refuse", "Forbidden", "Conflict"}


def domain_sources():
    for package in DOMAIN_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"))


def called(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def test_d4_every_marked_string_of_the_domain_is_in_the_catalogue():
    """A message marked for translation but in no catalogue would stay English: refresh the
    domain's catalogue (docs/architecture.md says how) when adding one. (A few words of the
    calendar's text are marked inside f-strings, which makemessages cannot see; the pages'
    catalogues have them.)"""
    folders = [DOMAIN, *(ROOT / app / "locale" for app in PAGES)]
    known = {(e.get("msgctxt"), unescape(e["msgid"])) for folder in folders for e in catalogue(folder, "nl")}
    missing = []
    for path, tree in domain_sources():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and called(node) in MARKERS and node.args):
                continue
            texts = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
            key = (texts[0], texts[1]) if called(node).startswith("pgettext") else (None, texts[0])
            if key[1] is not None and key not in known:
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {key[1]!r}")
    assert missing == []


def test_d4_no_refusal_of_the_domain_is_written_in_english_only():
    """The message of every refusal is translated where it is raised: never a bare string
    or an f-string."""
    bare = []
    for path, tree in domain_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and called(node) in REFUSALS:
                for argument in [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "message")]:
                    if isinstance(argument, ast.JoinedStr | ast.Constant):
                        bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == []


def test_d4_o3_every_not_found_says_its_whole_sentence():
    """``NotFound("meeting")`` says "No such meeting." as one translated sentence: each thing
    looked up anywhere has one in ``core.errors.NOT_FOUND``."""
    looked_up = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and called(node) == "NotFound" and node.args[:1]:
                looked_up |= {node.args[0].value} if isinstance(node.args[0], ast.Constant) else set()
    assert looked_up and looked_up <= set(NOT_FOUND)
    with translation.override("nl"):
        assert NotFound("meeting").message == "Deze afspraak bestaat niet."


def test_d4_labels_follow_the_active_language_and_keep_their_values():
    with translation.override("de"):
        assert (Status.CANCELLED.value, str(Status.CANCELLED.label)) == ("cancelled", "Abgesagt")
        assert str(RejectReason.PRICE.label) == "Der Preis passt mir nicht"
        assert str(Outcome.CLIENT_NO_SHOW.label) == "Kunde ist nicht erschienen"
    with translation.override("sk"):
        assert str(Status.AGREED.label) == "Dohodnuté"
        assert str(EventKind.CANCELLED.label).format(side="klient") == "Zrušil klient"
    assert str(Status.AGREED.label) == "Agreed"


# --- the pages ------------------------------------------------------------------------------


@pytest.fixture
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(db, frozen_clock):
    return world()


def speaking(user, language: str):
    user.language = language
    user.save(update_fields=["language"])
    return user


def act_on_page(user, meeting, name: str, data: dict | None = None, **headers):
    address = reverse(f"web:meeting_{name}", args=[meeting.organization.slug, meeting.pk])
    return signed_in(user).post(address, {f"{name}-{k}": v for k, v in (data or {}).items()}, **headers)


def test_d4_a_dutch_client_reads_the_domains_refusal_on_the_meeting_page_in_dutch(w):
    meeting = w.book()
    response = act_on_page(speaking(w.client, "nl"), meeting, "confirm")  # L2: the expert confirms
    assert response.status_code == 409
    assert "U hebt deze afspraak voorgesteld; de andere partij moet haar bevestigen." in text(response)
    assert "You proposed this meeting" not in text(response)


def test_d4_a_dutch_expert_reads_the_meetings_status_in_the_refusal_in_dutch(w):
    meeting = w.book()
    expert = speaking(w.expert, "nl")
    act_on_page(expert, meeting, "confirm")
    response = act_on_page(expert, meeting, "confirm")  # a double submission
    assert response.status_code == 409
    assert "Dit kan alleen zolang de afspraak in afwachting van goedkeuring is; ze is nu afgesproken." in text(response)


def test_d4_l8_a_dutch_clients_late_cancellation_is_explained_in_dutch(w, frozen_clock):
    meeting = w.agreed(hours_ahead=72)
    frozen_clock.move_to(meeting.start - timedelta(hours=24), tick=False)
    response = act_on_page(speaking(w.client, "nl"), meeting, "cancel", {"note": "Ik ben ziek"})
    assert response.status_code == 409
    page = text(response)
    assert 'lang="nl"' in page and "50 credits" in page and "You will be charged" not in page
    assert fresh(meeting).status == Status.AGREED


def test_d4_e3_a_czech_expert_reads_the_free_dates_overlap_in_czech(w):
    form = {f"start-{day}": [""] for day in range(7)} | {f"end-{day}": [""] for day in range(7)}
    form |= {"start-1": ["09:00", "11:00", ""], "end-1": ["12:00", "13:00", ""]}  # Tuesday
    address = f"/o/{w.org.slug}/free-dates/weekly/"
    response = signed_in(speaking(w.expert, "cs")).post(address, form)
    assert response.status_code == 400
    page = text(response)
    assert "úterý 11:00–13:00 se překrývá s 09:00–12:00; spojte je do jednoho intervalu" in page
    assert "overlaps" not in page


def test_d4_l19_the_timeline_keeps_english_data_and_shows_the_viewers_words(w, frozen_clock):
    meeting = w.agreed(hours_ahead=2)
    frozen_clock.move_to(meeting.end + timedelta(minutes=1), tick=False)
    with translation.override("nl"):  # closed while a Dutch request is being served
        outcome.close_meeting(meeting)
    closed = fresh(meeting).timeline.get(kind=EventKind.CLOSED)
    assert closed.data["status"] == "Missed"  # stored in the domain's own words
    page = text(signed_in(speaking(w.client, "de")).get(reverse("web:meeting", args=[w.org.slug, meeting.pk])))
    assert "Termin beendet: Versäumt" in page


def test_d4_v2_a_czech_client_at_a_cancelled_meetings_door_reads_why_in_czech(w):
    meeting = w.agreed(hours_ahead=72)
    lifecycle.cancel_meeting(w.client, meeting, note="Nemohu")
    browser = signed_in(speaking(w.client, "cs"))
    door = reverse("rooms:join_meeting", args=[meeting.pk])
    assert "„zrušena“" in text(browser.get(door))
    response = browser.post(door)  # V2: entering is refused by the domain
    assert "Vstoupit lze jen do domluvené schůzky." in text(response)


# --- the API ----------------------------------------------------------------------------


def api(person=None, **headers) -> Client:
    if person is not None:
        _, token = ApiToken.issue(person, "tests")
        headers["Authorization"] = f"Bearer {token}"
    browser = Client(headers=headers)
    return browser


def post(browser: Client, path: str, body: dict | None = None):
    return browser.post("/api/v1" + path, json.dumps(body or {}), content_type="application/json")


def test_d4_l8_the_api_refuses_a_german_user_in_german_with_the_same_code_and_rule(w):
    meeting = w.agreed(hours_ahead=24)
    path = f"/orgs/{w.org.slug}/meetings/{meeting.pk}/cancel"
    english = post(api(w.client), path, {"note": "Sick"}).json()
    german = post(api(speaking(w.client, "de")), path, {"note": "Krank"})
    assert german.status_code == 409 and german["Content-Language"] == "de"
    body = german.json()
    assert (body["code"], body["rule"], body["details"]) == (english["code"], english["rule"], english["details"])
    assert (body["code"], body["rule"]) == ("late_cancellation_charge", "L8")
    assert english["message"].startswith("The meeting starts within 48 hours: 50 % of the price (50 credits)")
    assert body["message"] == (
        "Der Termin beginnt in weniger als 48 Stunden: 50 % des Preises (50 Credits) werden berechnet "
        "und 50 zurückgegeben. Bestätigen Sie, um abzusagen."
    )
    assert fresh(meeting).status == Status.AGREED


def test_d4_the_api_answers_a_signed_in_person_in_their_own_language(w):
    """The person's setting wins over what their browser asks for."""
    meeting = w.book()
    browser = Client(headers={"Accept-Language": "en"})
    browser.force_login(speaking(w.client, "sk"))
    response = post(browser, f"/orgs/{w.org.slug}/meetings/{meeting.pk}/confirm")
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["rule"]) == ("already_approved", "L2")
    assert body["message"] == "Toto stretnutie ste navrhli vy; potvrdzuje ho druhá strana."


def test_d4_a_caller_without_an_account_is_answered_in_the_language_asked_for(w):
    response = api(**{"Accept-Language": "de"}).get(f"/api/v1/orgs/{w.org.slug}/meetings")
    body = response.json()
    assert response.status_code == 401 and (body["code"], body["rule"]) == ("not_authenticated", "I2")
    assert body["message"] == "Melden Sie sich an oder senden Sie ein API-Token mit."
    english = api().get(f"/api/v1/orgs/{w.org.slug}/meetings").json()
    assert english["message"] == "Sign in, or send an API token."


def test_d4_the_apis_labels_are_in_the_callers_language(w):
    meeting = lifecycle.confirm_meeting(w.expert, w.book())
    body = api(speaking(w.client, "cs")).get(f"/api/v1/orgs/{w.org.slug}/meetings/{meeting.pk}").json()
    assert (body["status"], body["displayed_status_label"]) == ("agreed", "Naplánována")
    assert [event["title"] for event in body["timeline"]][-1] == "Schválil expert"  # L19
    reasons = api(speaking(w.expert, "de")).get(f"/api/v1/orgs/{w.org.slug}/reasons").json()
    assert {"code": "price", "label": "Der Preis passt mir nicht"} in reasons["reject"]


def test_d4_q2_the_apis_validation_answers_are_in_the_callers_language(w):
    meeting = w.agreed(hours_ahead=72)
    path = f"/orgs/{w.org.slug}/meetings/{meeting.pk}/cancel"
    response = post(api(speaking(w.client, "nl")), path, {"confirm_late": "sure", "note": 5})
    body = response.json()
    assert response.status_code == 422 and (body["code"], body["rule"]) == ("invalid_input", "Q2")
    said = {error["field"]: error["message"] for error in body["details"]["errors"]}
    assert said == {"confirm_late": "Invoer moet true of false zijn", "note": "Invoer moet een geldige tekst zijn"}
    english = post(api(speaking(w.client, "en")), path, {"confirm_late": "sure"}).json()
    assert english["details"]["errors"][0]["message"] == "Input should be a valid boolean"
