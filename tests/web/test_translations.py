"""D4: every string of the pages, the room and the mails is translated into Dutch, German,
Czech and Slovak, and the compiled catalogues Django loads say what the sources say."""

import gettext
import re
from pathlib import Path

import pytest

import parlour

LANGUAGES = ["nl", "de", "cs", "sk"]
APPS = ["web", "rooms", "notifications"]
ROOT = Path(parlour.__file__).parent


def entries(po: Path) -> list[dict]:
    """The catalogue's entries (the header left out): context, msgid, plural, msgstr[n], flags."""
    found, entry, field = [], None, None
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry and entry.get("msgid"):
                found.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#"):
            continue
        elif match := re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) "(.*)"$', line):
            keyword, index, text = match.groups()
            field = ("msgstr", int(index or 0)) if keyword.startswith("msgstr") else keyword
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] = text
            else:
                entry[field] = text
        elif line.startswith('"') and field is not None:
            text = line[1:-1]
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += text
            else:
                entry[field] += text
    return [e for e in found if not e.get("obsolete")]


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def unescape(text: str) -> str:
    """A .po string's text: its C escapes (\\n, \\t, \\", \\\\) read."""
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text)


CATALOGUES = [(app, language) for app in APPS for language in LANGUAGES]


@pytest.mark.parametrize(("app", "language"), CATALOGUES, ids=[f"{a}-{lang}" for a, lang in CATALOGUES])
def test_d4_every_string_is_translated_and_compiled(app, language):
    folder = ROOT / app / "locale" / language / "LC_MESSAGES"
    source = entries(folder / "django.po")
    assert source, f"{app}/{language}: an empty catalogue"
    untranslated = [e["msgid"] for e in source if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in source if "fuzzy" in e["flags"]]
    assert untranslated == [], f"{app}/{language}: not translated"
    assert fuzzy == [], f"{app}/{language}: marked fuzzy"
    with (folder / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for entry in source:
        msgid, context = unescape(entry["msgid"]), entry.get("msgctxt")
        if "msgid_plural" in entry:
            said = (
                catalogue.npgettext(context, msgid, unescape(entry["msgid_plural"]), 1)
                if context
                else (catalogue.ngettext(msgid, unescape(entry["msgid_plural"]), 1))
            )
        else:
            said = catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)
        assert said == unescape(entry["msgstr"][0]), f"{app}/{language}: the .mo is older than the .po ({msgid!r})"


@pytest.mark.parametrize(("app", "language"), CATALOGUES, ids=[f"{a}-{lang}" for a, lang in CATALOGUES])
def test_d4_translations_keep_every_placeholder(app, language):
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for entry in entries(ROOT / app / "locale" / language / "LC_MESSAGES" / "django.po"):
        wanted = set(placeholder.findall(entry["msgid"] + entry.get("msgid_plural", "")))
        for text in entry["msgstr"].values():
            used = set(placeholder.findall(text))
            assert used <= wanted, f"{app}/{language}: {entry['msgid']!r} uses {used - wanted}"
