"""Catalogue upkeep: extract messages, update every language, fill English, report completeness.

``python -m bot.locales extract``  writes ``locales/messages.pot`` from the code and questionnaires
``python -m bot.locales update``   merges it into every ``locales/<code>/LC_MESSAGES/messages.po``
                                  (creating missing ones) and fills English with its own text
``python -m bot.locales check``    exits non-zero if any catalogue is incomplete or fuzzy

A fluent speaker's review is kept in the catalogue itself (the playground's Language review writes
it): each text carries a translator comment ``# review: reviewed by NAME on DATE`` or
``# review: needs work, by NAME on DATE``, and the header ``X-Review-Status`` says
``reviewed by NAME on DATE`` or ``n of m reviewed by NAME on DATE``. A text whose English changes
becomes fuzzy on ``update`` and loses its review mark.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from core.i18n import LANGUAGES
from core.settings import DEFAULT_LOCALES_DIR, PROJECT_ROOT

KEYWORDS = [
    *("-k", "_", "-k", "ngettext:1,2", "-k", "pgettext:1c,2", "-k", "npgettext:1c,2,3"),
    *("-k", "N_", "-k", "pN_:1c,2"),  # markers in the command table (conversations/commands.py)
]
TEMPLATE = DEFAULT_LOCALES_DIR / "messages.pot"
REVIEW_MARK = "review: "
REVIEWED, NEEDS_WORK = "reviewed", "needs work"


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
        forget_changed_reviews(catalog)
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
    reviewed: int = 0
    needs_work: int = 0

    @property
    def review_count(self) -> str:
        """``n of m reviewed`` (and how many need work), as ``checkin-bot languages`` shows it."""
        text = f"{self.reviewed} of {self.total} reviewed"
        return f"{text}, {self.needs_work} need work" if self.needs_work else text

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
    done = fuzzy = reviewed = needs_work = 0
    for message in catalog:
        if not message.id or (message.context, _key(message.id)) not in wanted:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            fuzzy += 1
        elif all(strings):
            done += 1
            review = text_review(message)
            reviewed += review == REVIEWED
            needs_work += review == NEEDS_WORK
    if code == "en":
        return Completeness(code, done, len(wanted), fuzzy, "source language", done)
    status = review_status(path)
    return Completeness(code, done, len(wanted), fuzzy, status, reviewed, needs_work)


def text_review(message: Message) -> str | None:
    """``reviewed``, ``needs work`` or None: a fluent speaker's mark on one text."""
    for comment in message.user_comments:
        if comment.startswith(REVIEW_MARK + REVIEWED):
            return REVIEWED
        if comment.startswith(REVIEW_MARK + NEEDS_WORK):
            return NEEDS_WORK
    return None


def forget_changed_reviews(catalog: Catalog) -> None:
    """After a merge: a text whose English changed (now fuzzy) loses its review mark."""
    for message in catalog:
        if message.id and message.fuzzy:
            set_text_review(message, None)


def set_text_review(message: Message, mark: str | None) -> None:
    """Replace the text's review comment by ``mark`` (``review: ...``), or drop it."""
    kept = [c for c in message.user_comments if not c.startswith(REVIEW_MARK)]
    message.user_comments = [*kept, f"{REVIEW_MARK}{mark}"] if mark else kept


def keep_review_status(path: Path, status: str) -> None:
    """Write ``X-Review-Status`` back into the header (Babel drops ``X-`` headers)."""
    path.write_text(with_review_status(path.read_text("utf-8"), status), "utf-8")


def with_review_status(text: str, status: str) -> str:
    """A catalogue's text with its ``X-Review-Status`` header set to ``status``."""
    status = " ".join(status.replace("\\", "/").replace('"', "'").split())
    lines = [
        line for line in text.splitlines(keepends=True) if not line.startswith('"X-Review-Status:')
    ]
    for index, line in enumerate(lines[:40]):
        if line.startswith('"Language-Team:'):
            lines.insert(index + 1, f'"X-Review-Status: {status}\\n"\n')
            break
    return "".join(lines)


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
