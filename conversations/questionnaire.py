"""Questionnaires as data: the model, validation of the YAML files, and the next step of a check-in.

A questionnaire is a YAML file with a stable ``id`` and ``version``, an answer ``scale`` and a list
of ``items``, each with its own stable ``id`` and ``version``. Files are validated at start-up;
a broken file stops start-up with a :class:`QuestionnaireError` naming the file, item and field.

The position in a check-in is a *step*: an item id, then ``comment`` (the optional "anything
else?"), then ``share`` (share with the key worker or not), then ``done``. :func:`next_step` and
:func:`previous_step` are pure functions of the questionnaire and the checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import QuestionnaireError

COMMENT = "comment"
SHARE = "share"
DONE = "done"
SKIPPED = 0  # the value a "Skip" press carries on the wire; stored as NULL

_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DEFAULT_DIR = Path(__file__).with_name("questionnaires")


@dataclass(frozen=True, slots=True)
class ScaleOption:
    """One answer on the scale: the stored value, a face, and words."""

    value: int
    emoji: str
    label: str


@dataclass(frozen=True, slots=True)
class Item:
    """One statement, asked at the checkpoints named (all of them when ``checkpoints`` is None)."""

    id: str
    version: int
    text: str
    short: str
    checkpoints: frozenset[str] | None = None

    def asked_at(self, checkpoint: str) -> bool:
        return self.checkpoints is None or checkpoint in self.checkpoints


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A validated questionnaire."""

    id: str
    version: int
    title: str
    source: str
    scale: tuple[ScaleOption, ...]
    items: tuple[Item, ...]

    def items_for(self, checkpoint: str) -> tuple[Item, ...]:
        """The items asked at ``checkpoint``, in order."""
        return tuple(item for item in self.items if item.asked_at(checkpoint))

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def option(self, value: int) -> ScaleOption | None:
        for option in self.scale:
            if option.value == value:
                return option
        return None

    def context(self, item_id: str) -> str:
        """The gettext context of an item's texts."""
        return f"{self.id}.{item_id}"


# --- steps ---------------------------------------------------------------------------------


def first_step(questionnaire: Questionnaire, checkpoint: str) -> str:
    """Where a new check-in starts."""
    items = questionnaire.items_for(checkpoint)
    return items[0].id if items else COMMENT


def next_step(questionnaire: Questionnaire, checkpoint: str, step: str) -> str:
    """The step after ``step``: the next item, then comment, share, done."""
    if step == COMMENT:
        return SHARE
    if step in (SHARE, DONE):
        return DONE
    ids = [item.id for item in questionnaire.items_for(checkpoint)]
    index = ids.index(step)
    return ids[index + 1] if index + 1 < len(ids) else COMMENT


def previous_step(questionnaire: Questionnaire, checkpoint: str, step: str) -> str | None:
    """The step "Back" returns to, or None when there is nothing before ``step``."""
    ids = [item.id for item in questionnaire.items_for(checkpoint)]
    if step == COMMENT:
        return ids[-1] if ids else None
    if step not in ids:
        return None
    index = ids.index(step)
    return ids[index - 1] if index > 0 else None


def step_number(questionnaire: Questionnaire, checkpoint: str, step: str) -> tuple[int, int]:
    """``(n, total)`` for "Statement n of total"; n is 0 for a non-item step."""
    ids = [item.id for item in questionnaire.items_for(checkpoint)]
    return (ids.index(step) + 1 if step in ids else 0, len(ids))


# --- loading and validation ----------------------------------------------------------------


def load_questionnaires(directory: Path = DEFAULT_DIR) -> dict[str, Questionnaire]:
    """Load and validate every ``*.yaml`` questionnaire in ``directory``, keyed by id."""
    found: dict[str, Questionnaire] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise QuestionnaireError(f"{directory}: no questionnaire files (*.yaml)")
    for path in files:
        questionnaire = load_questionnaire(path)
        if questionnaire.id in found:
            raise QuestionnaireError(f"{path.name}: id: '{questionnaire.id}' is used twice")
        found[questionnaire.id] = questionnaire
    return found


def load_questionnaire(path: Path) -> Questionnaire:
    """Read and validate one questionnaire file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise QuestionnaireError(f"{path.name}: cannot be read: {exc}") from exc
    return parse_questionnaire(raw, source_name=path.name)


def parse_questionnaire(raw: object, *, source_name: str) -> Questionnaire:
    """Validate already-parsed YAML; errors name ``source_name``, the item and the field."""
    where = _Where(source_name)
    doc = where.mapping(raw, "")
    where.only(doc, "", {"id", "version", "title", "source", "scale", "items"})
    scale = tuple(
        _parse_option(where, option, f"scale[{i}]")
        for i, option in enumerate(where.sequence(doc.get("scale"), "scale"))
    )
    values = [option.value for option in scale]
    if len(scale) < 2 or len(set(values)) != len(values):
        raise where.error("scale", "needs at least two options with different values")
    items = tuple(
        _parse_item(where, item, i)
        for i, item in enumerate(where.sequence(doc.get("items"), "items"))
    )
    if not items:
        raise where.error("items", "needs at least one item")
    ids = [item.id for item in items]
    for item_id in ids:
        if ids.count(item_id) > 1:
            raise where.error(f"items[{item_id}].id", f"'{item_id}' is used twice")
    return Questionnaire(
        id=where.identifier(doc.get("id"), "id"),
        version=where.positive(doc.get("version"), "version"),
        title=where.text(doc.get("title"), "title"),
        source=where.text(doc.get("source"), "source"),
        scale=scale,
        items=items,
    )


def _parse_option(where: _Where, raw: object, field: str) -> ScaleOption:
    option = where.mapping(raw, field)
    where.only(option, field, {"value", "emoji", "label"})
    return ScaleOption(
        value=where.positive(option.get("value"), f"{field}.value"),
        emoji=where.text(option.get("emoji"), f"{field}.emoji"),
        label=where.text(option.get("label"), f"{field}.label"),
    )


def _parse_item(where: _Where, raw: object, index: int) -> Item:
    item = where.mapping(raw, f"items[{index}]")
    item_id = where.identifier(item.get("id"), f"items[{index}].id")
    field = f"items[{item_id}]"
    where.only(item, field, {"id", "version", "text", "short", "checkpoints"})
    text = where.text(item.get("text"), f"{field}.text")
    if len(text) > 300:
        raise where.error(f"{field}.text", "is longer than 300 characters")
    checkpoints = item.get("checkpoints")
    names: frozenset[str] | None = None
    if checkpoints is not None:
        names = frozenset(
            where.identifier(name, f"{field}.checkpoints[{i}]")
            for i, name in enumerate(where.sequence(checkpoints, f"{field}.checkpoints"))
        )
    return Item(
        id=item_id,
        version=where.positive(item.get("version"), f"{field}.version"),
        text=text,
        short=where.text(item.get("short"), f"{field}.short"),
        checkpoints=names,
    )


@dataclass(frozen=True, slots=True)
class _Where:
    """Builds error messages of the form ``file: field: problem``."""

    source_name: str

    def error(self, field: str, problem: str) -> QuestionnaireError:
        place = f"{self.source_name}: {field}" if field else self.source_name
        return QuestionnaireError(f"{place}: {problem}")

    def mapping(self, value: object, field: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(field, "must be a mapping of fields")
        return value

    def sequence(self, value: object, field: str) -> Sequence[object]:
        if not isinstance(value, list):
            raise self.error(field, "must be a list")
        return value

    def only(self, value: Mapping[str, Any], field: str, allowed: set[str]) -> None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.error(field or "(top level)", f"unknown field '{unknown[0]}'")

    def text(self, value: object, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, "must be a non-empty text")
        return value.strip()

    def identifier(self, value: object, field: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise self.error(field, "must be 1-32 of a-z, 0-9 and _, starting with a letter")
        return value

    def positive(self, value: object, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(field, "must be a whole number of at least 1")
        return value
