"""A Babel extractor for questionnaire YAML: items are translated in the same ``.po`` files.

Each text gets the context ``<questionnaire id>.<item id>`` (``.title`` and ``.scale`` for the
title and the answer labels), which is what :mod:`conversations.steps` asks the catalogue for.
Registered as the Babel extractor ``questionnaire`` (a pyproject entry point; see babel.cfg).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import yaml

Extracted = tuple[int, str, tuple[str, str], list[str]]


def extract_questionnaire(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Yield ``(line, "pgettext", (context, text), comments)`` for every text in the file."""
    source = fileobj.read().decode("utf-8")
    doc = yaml.safe_load(source)
    lines = source.splitlines()
    qid = doc["id"]

    def line_of(text: str) -> int:
        for number, line in enumerate(lines, start=1):
            if text[:40] in line:
                return number
        return 1

    yield (
        line_of(doc["title"]),
        "pgettext",
        (f"{qid}.title", doc["title"]),
        ["The questionnaire's title (for reviewers and staff; not shown above each statement)."],
    )
    for option in doc["scale"]:
        yield (
            line_of(option["label"]),
            "pgettext",
            (f"{qid}.scale", option["label"]),
            ["An answer button, shown after a face emoji. Keep it short."],
        )
    for item in doc["items"]:
        context = f"{qid}.{item['id']}"
        yield (
            line_of(item["text"]),
            "pgettext",
            (context, item["text"]),
            [f"Statement '{item['id']}', written from the young person's side."],
        )
        yield (
            line_of(item["short"]),
            "pgettext",
            (context, item["short"]),
            [f"Short name of statement '{item['id']}', used in staff digests."],
        )
