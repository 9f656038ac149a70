"""The gettext catalogues: complete, current, well-formed, and true to each language's glossary.

For every language in :data:`core.i18n.LANGUAGES`:

- ``locales/<code>/LC_MESSAGES/messages.po`` exists, holds every (msgctxt, msgid) of
  ``locales/messages.pot``, each translated (every plural form) and none fuzzy, and passes
  ``msgfmt --check``;
- every translation keeps the English placeholders (``{n}``, ``{who}``) and commands (``/stop``);
- a non-English catalogue records who translated it (``Last-Translator``) and its review state
  (``X-Review-Status``), and follows ``locales/<code>/glossary.yaml``.

The glossary format::

    language: ti
    review_status: machine-drafted, needs review by a fluent speaker
    terms:
      key worker: {translation: "...", forms: ["...", "..."]}
      check-in: {translation: "...", forms: ["..."]}
      support: {translation: "...", forms: ["..."]}
      privacy: {translation: "...", forms: ["..."]}
    exceptions:
      - {term: support, msgid: "Hi! This bot is used by services that support ...", reason: "..."}

Every entry whose English text (commands such as ``/support`` and placeholders left out) contains a
term must contain one of the term's ``forms`` (case-insensitive substring) in each of its
translations, unless an exception names that term and msgid (and ``context``, when given).

The template itself is checked too: re-extracting the messages from the code must give the same
set as the committed ``locales/messages.pot`` (run ``make locales`` after changing texts).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel.messages.pofile import read_po

from bot.locales import extract
from core.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
TEMPLATE = LOCALES / "messages.pot"
CODES = [language.code for language in LANGUAGES]
TRANSLATED = [code for code in CODES if code != "en"]
TERMS = ("key worker", "check-in", "support", "privacy")

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
COMMAND = re.compile(r"(?<![\w/])/[a-z]+\b")

Key = tuple[str | None, str | tuple[str, ...]]


def po_path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / "messages.po"


def key(message: Any) -> Key:
    """A message's identity: its context and its msgid (with msgid_plural for plurals)."""
    message_id = message.id
    ident = tuple(message_id) if isinstance(message_id, list | tuple) else str(message_id)
    return (message.context, ident)


def label(message_key: Key) -> str:
    context, ident = message_key
    text = ident[0] if isinstance(ident, tuple) else ident
    return f"[{context}] {text!r}" if context else repr(text)


def english(message: Any) -> list[str]:
    return [str(part) for part in message.id] if message.pluralizable else [str(message.id)]


def strings(message: Any) -> list[str]:
    value = message.string
    if isinstance(value, list | tuple):
        return [str(part or "") for part in value]
    return [str(value or "")]


@cache
def read_catalogue(path: Path, code: str | None = None) -> Any:
    with path.open("rb") as handle:
        return read_po(handle, locale=code) if code else read_po(handle)


def template() -> Any:
    return read_catalogue(TEMPLATE)


def template_keys(catalogue: Any) -> set[Key]:
    return {key(message) for message in catalogue if message.id}


def catalogue(code: str) -> Any:
    path = po_path(code)
    if not path.is_file():
        pytest.fail(f"{code}: {path.relative_to(ROOT)} is missing")
    return read_catalogue(path, code)


def messages(code: str) -> list[Any]:
    """The catalogue's entries that the template asks for."""
    wanted = template_keys(template())
    return [m for m in catalogue(code) if m.id and key(m) in wanted]


# --- the template ----------------------------------------------------------------------------


def test_template_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    extract(fresh)  # exactly as `make locales` does
    extracted = template_keys(read_catalogue(fresh))
    committed = template_keys(template())
    new = sorted(map(label, extracted - committed))
    gone = sorted(map(label, committed - extracted))
    assert not new, f"In the code but not locales/messages.pot (run `make locales`): {new}"
    assert not gone, f"In locales/messages.pot but not the code (run `make locales`): {gone}"


# --- every language ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_catalogue_has_every_message_translated(code: str) -> None:
    entries = {key(m): m for m in catalogue(code) if m.id}
    missing, untranslated, fuzzy = [], [], []
    for wanted in sorted(template_keys(template()), key=label):
        message = entries.get(wanted)
        if message is None:
            missing.append(label(wanted))
        elif message.fuzzy:
            fuzzy.append(label(wanted))
        elif not all(strings(message)):
            untranslated.append(label(wanted))
    assert not missing, f"{code}: missing {missing}"
    assert not untranslated, f"{code}: untranslated {untranslated}"
    assert not fuzzy, f"{code}: fuzzy {fuzzy}"


@pytest.mark.parametrize("code", CODES)
def test_catalogue_fills_every_plural_form(code: str) -> None:
    expected = catalogue(code).num_plurals
    wrong = [
        f"{label(key(m))}: {len(strings(m))} forms"
        for m in messages(code)
        if m.pluralizable and len(strings(m)) != expected
    ]
    assert not wrong, f"{code}: plural entries need {expected} forms: {wrong}"


@pytest.mark.parametrize("code", CODES)
def test_catalogue_passes_msgfmt_check(code: str) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("GNU gettext's msgfmt is not installed (`make system` installs it)")
    path = po_path(code)
    if not path.is_file():
        pytest.fail(f"{code}: {path.relative_to(ROOT)} is missing")
    result = subprocess.run(  # noqa: S603 - msgfmt on our own catalogue
        [msgfmt, "--check", "-o", "/dev/null", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{code}: msgfmt --check failed:\n{result.stderr}"


@pytest.mark.parametrize("code", CODES)
def test_translations_keep_placeholders_and_commands(code: str) -> None:
    problems = []
    for message in messages(code):
        source = " ".join(english(message))
        placeholders = set(PLACEHOLDER.findall(source))
        commands = set(COMMAND.findall(source))
        for index, text in enumerate(strings(message)):
            if not text:
                continue
            found = set(PLACEHOLDER.findall(text))
            if found != placeholders:
                problems.append(
                    f"{label(key(message))} form {index}: placeholders {sorted(found)},"
                    f" expected {sorted(placeholders)}"
                )
            lost = commands - set(COMMAND.findall(text))
            if lost:
                problems.append(f"{label(key(message))} form {index}: lost {sorted(lost)}")
    assert not problems, f"{code}:\n" + "\n".join(problems)


# --- non-English: who translated it, and the glossary -----------------------------------------


HEADER = re.compile(r'^msgid ""\nmsgstr ((?:".*"\n?)+)', re.MULTILINE)


def raw_headers(path: Path) -> dict[str, str]:
    """The header fields as written (Babel's reader drops fields it does not know, like X-...)."""
    match = HEADER.search(path.read_text(encoding="utf-8"))
    if match is None:
        return {}
    body = "".join(ast.literal_eval(line) for line in match.group(1).splitlines() if line)
    fields = (line.partition(":") for line in body.split("\n") if ":" in line)
    return {name.strip(): value.strip() for name, _, value in fields}


@pytest.mark.parametrize("code", TRANSLATED)
def test_header_records_translator_and_review_status(code: str) -> None:
    current = catalogue(code)
    headers = raw_headers(po_path(code))
    translator = headers.get("Last-Translator", "")
    assert translator, f"{code}: the header has no Last-Translator"
    assert "FULL NAME" not in translator, f"{code}: Last-Translator is Babel's placeholder"
    assert headers.get("X-Review-Status"), f"{code}: the header has no X-Review-Status"
    assert not current.fuzzy, f"{code}: the header is marked fuzzy"


def glossary(code: str) -> dict[str, Any]:
    path = LOCALES / code / "glossary.yaml"
    if not path.is_file():
        pytest.fail(f"{code}: {path.relative_to(ROOT)} is missing")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{code}: glossary.yaml is not a mapping"
    return data


def term_forms(code: str, data: dict[str, Any]) -> dict[str, list[str]]:
    terms = data.get("terms")
    assert isinstance(terms, dict), f"{code}: glossary.yaml has no `terms` mapping"
    forms: dict[str, list[str]] = {}
    for term in TERMS:
        entry = terms.get(term)
        assert isinstance(entry, dict), f"{code}: glossary.yaml has no term {term!r}"
        translation = entry.get("translation")
        assert isinstance(translation, str), f"{code}: glossary term {term!r} has no translation"
        assert translation.strip(), f"{code}: glossary term {term!r} has an empty translation"
        listed = entry.get("forms")
        assert isinstance(listed, list), f"{code}: glossary term {term!r} has no list of forms"
        assert listed, f"{code}: glossary term {term!r} has no forms"
        assert all(isinstance(form, str) and form.strip() for form in listed), (
            f"{code}: glossary term {term!r} has an empty or non-text form"
        )
        forms[term] = [form.casefold() for form in listed]
    return forms


def term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"\b" + re.escape(term).replace(r"\ ", r"\s+"), re.IGNORECASE)


def uses_term(term: str, text: str) -> bool:
    """Whether English text uses a term, not counting commands and placeholders."""
    prose = PLACEHOLDER.sub(" ", COMMAND.sub(" ", text))
    return term_pattern(term).search(prose) is not None


@pytest.mark.parametrize("code", TRANSLATED)
def test_glossary_is_complete(code: str) -> None:
    data = glossary(code)
    assert data.get("language") == code, (
        f"{code}: glossary.yaml names language {data.get('language')!r}"
    )
    assert str(data.get("review_status", "")).strip(), f"{code}: glossary.yaml has no review_status"
    term_forms(code, data)


@pytest.mark.parametrize("code", TRANSLATED)
def test_glossary_exceptions_are_real(code: str) -> None:
    exceptions = glossary(code).get("exceptions") or []
    assert isinstance(exceptions, list), f"{code}: glossary exceptions must be a list"
    by_id: dict[str, list[Any]] = {}
    for message in template():
        if message.id:
            by_id.setdefault(english(message)[0], []).append(message)
    for exception in exceptions:
        assert isinstance(exception, dict), f"{code}: exception {exception!r} is not a mapping"
        term, msgid = exception.get("term"), exception.get("msgid")
        assert term in TERMS, f"{code}: exception {exception!r} names no glossary term"
        assert str(exception.get("reason", "")).strip(), (
            f"{code}: exception {msgid!r} has no reason"
        )
        matches = [
            m
            for m in by_id.get(str(msgid), [])
            if "context" not in exception or m.context == exception["context"]
        ]
        assert matches, f"{code}: exception msgid {msgid!r} is not in the template"
        assert any(uses_term(str(term), " ".join(english(m))) for m in matches), (
            f"{code}: exception {msgid!r} does not use the term {term!r}"
        )


@pytest.mark.parametrize("code", TRANSLATED)
def test_glossary_is_followed(code: str) -> None:
    data = glossary(code)
    forms = term_forms(code, data)
    excused = {
        (e.get("term"), e.get("msgid"), e.get("context"))
        for e in (data.get("exceptions") or [])
        if isinstance(e, dict)
    }
    problems = []
    for message in messages(code):
        source = " ".join(english(message))
        msgid = english(message)[0]
        for term in TERMS:
            if not uses_term(term, source):
                continue
            if (term, msgid, None) in excused or (term, msgid, message.context) in excused:
                continue
            for index, text in enumerate(strings(message)):
                if text and not any(form in text.casefold() for form in forms[term]):
                    problems.append(f"{label(key(message))} form {index}: no form of {term!r}")
    assert not problems, f"{code}: glossary not followed:\n" + "\n".join(problems)
