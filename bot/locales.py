"""Catalogue upkeep: extract messages, update every language, fill English, report completeness.

``python -m bot.locales extract``  writes ``locales/messages.pot`` from the code and questionnaires
``python -m bot.locales update``   merges it into every ``locales/<code>/LC_MESSAGES/messages.po``
                                  (creating missing ones) and fills English with its own text
``python -m bot.locales check``    exits non-zero if any catalogue is incomplete or fuzzy
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from core.i18n import LANGUAGES
from core.settings import DEFAULT_LOCALES_DIR, PROJECT_ROOT

KEYWORDS = [
    *("-k", "_", "-k", "ngettext:1,2", "-k", "pgettext:1c,2", "-k", "npgettext:1c,2,3"),
    *("-k", "N_", "-k", "pN_:1c,2"),  # markers in the command table (conversations/commands.py)
]
TEMPLATE = DEFAULT_LOCALES_DIR / "messages.pot"


def po_path(code: str, root: Path = DEFAULT_LOCALES_DIR) -> Path:
    return root / code / "LC_MESSAGES" / "messages.po"


def extract(output: Path = TEMPLATE) -> None:
    """Regenerate the template (or write it to ``output``) from the code and questionnaires."""
    subprocess.run(  # noqa: S603 - fixed arguments, our own tool
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-o",
            str(output),
            "--no-wrap",
            "--no-location",  # catalogues without line numbers merge cleanly
            "--sort-output",
            "--add-comments=Translators:",
            "--project=Check-in",
            *KEYWORDS,
            ".",
        ],
        check=True,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
    )


def update() -> None:
    """Merge the template into every language's catalogue; English translates to itself."""
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    for language in LANGUAGES:
        path = po_path(language.code)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language.code)
        else:
            catalog = Catalog(locale=language.code, project="Check-in")
        catalog.update(template, update_header_comment=False)
        if language.code == "en":
            catalog.fuzzy = False
            catalog.last_translator = "Check-in team (English is the source language)"
            for message in catalog:
                if message.id:
                    message.string = message.id
                    message.flags.discard("fuzzy")
        status = review_status(path) if path.exists() else "not recorded"
        if language.code == "en":
            status = "source language, written by the Check-in team"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(
                handle, catalog, width=0, ignore_obsolete=True, no_location=True, sort_output=True
            )
        if status != "not recorded":
            keep_review_status(path, status)


@dataclass(frozen=True, slots=True)
class Completeness:
    code: str
    translated: int
    total: int
    fuzzy: int
    status: str

    @property
    def complete(self) -> bool:
        return self.translated == self.total and self.fuzzy == 0


def completeness(code: str, root: Path = DEFAULT_LOCALES_DIR) -> Completeness:
    """Translated / total / fuzzy against the template, and the catalogue's review status."""
    with TEMPLATE.open("rb") as handle:
        wanted = {(m.context, _key(m.id)) for m in read_po(handle) if m.id}
    path = po_path(code, root)
    if not path.exists():
        return Completeness(code, 0, len(wanted), 0, "missing")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    done = fuzzy = 0
    for message in catalog:
        if not message.id or (message.context, _key(message.id)) not in wanted:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            fuzzy += 1
        elif all(strings):
            done += 1
    if code == "en":
        return Completeness(code, done, len(wanted), fuzzy, "source language")
    return Completeness(code, done, len(wanted), fuzzy, review_status(path))


def keep_review_status(path: Path, status: str) -> None:
    """Write ``X-Review-Status`` back into the header (Babel drops ``X-`` headers)."""
    lines = path.read_text("utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines[:40]):
        if line.startswith('"Language-Team:'):
            lines.insert(index + 1, f'"X-Review-Status: {status}\\n"\n')
            break
    path.write_text("".join(lines), "utf-8")


def review_status(path: Path) -> str:
    """The ``X-Review-Status`` header of a catalogue (Babel drops ``X-`` headers when reading)."""
    for line in path.read_text("utf-8").splitlines()[:40]:
        if line.startswith('"X-Review-Status:'):
            return line.split(":", 1)[1].strip().removesuffix('"').removesuffix("\\n").strip()
    return "not recorded"


def _key(message_id: object) -> str:
    return message_id[0] if isinstance(message_id, tuple) else str(message_id)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "extract":
        extract()
    elif command == "update":
        update()
    elif command == "check":
        bad = [c for c in (completeness(lang.code) for lang in LANGUAGES) if not c.complete]
        for c in bad:
            print(f"{c.code}: {c.translated}/{c.total} translated, {c.fuzzy} fuzzy")
        return 1 if bad else 0
    else:
        print("usage: python -m bot.locales extract|update|check", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
