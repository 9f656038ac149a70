"""Questionnaires: the default file, validation messages, and the step functions."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from conversations.questionnaire import (
    COMMENT,
    DONE,
    SHARE,
    first_step,
    load_questionnaire,
    load_questionnaires,
    next_step,
    parse_questionnaire,
    previous_step,
    step_number,
)
from core.errors import QuestionnaireError

DEFAULT = Path(__file__).resolve().parents[1] / "conversations" / "questionnaires"


def raw_default() -> dict[str, Any]:
    data = yaml.safe_load((DEFAULT / "quality_experience.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_default_questionnaire_has_the_framework_items_and_its_source() -> None:
    q = load_questionnaires(DEFAULT)["quality_experience"]
    assert [i.id for i in q.items] == [
        "power",
        "respected",
        "cares",
        "turn_to",
        "goals",
        "inspired",
        "practical",
        "interests",
        "boundaries",
    ]
    assert "Centre for Youth Impact" in q.source
    assert [o.value for o in q.scale] == [4, 3, 2, 1]
    assert q.item("turn_to").text == "I feel I can turn to my key worker for support if I need to."


def test_steps_walk_items_then_comment_share_done() -> None:
    q = load_questionnaire(DEFAULT / "quality_experience.yaml")
    step = first_step(q, "start")
    seen = [step]
    while step != DONE:
        step = next_step(q, "start", step)
        seen.append(step)
    assert seen[-3:] == [COMMENT, SHARE, DONE]
    assert len(seen) == 9 + 3
    assert previous_step(q, "start", "power") is None
    assert previous_step(q, "start", "respected") == "power"
    assert previous_step(q, "start", COMMENT) == "boundaries"
    assert previous_step(q, "start", SHARE) is None
    assert step_number(q, "start", "cares") == (3, 9)


def test_items_can_be_limited_to_checkpoints() -> None:
    raw = raw_default()
    raw["items"][0]["checkpoints"] = ["exit"]
    q = parse_questionnaire(raw, source_name="x.yaml")
    assert first_step(q, "start") == "respected"
    assert first_step(q, "exit") == "power"
    assert step_number(q, "start", "respected") == (1, 8)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["items"][2].pop("version"), "x.yaml: items[cares].version: must be a whole"),
        (
            lambda d: d["items"][1].update(text=""),
            "x.yaml: items[respected].text: must be a non-empty",
        ),
        (lambda d: d["items"][3].update(id="Turn To"), "x.yaml: items[3].id: must be 1-32"),
        (
            lambda d: d["items"][4].update(id="power"),
            "x.yaml: items[power].id: 'power' is used twice",
        ),
        (
            lambda d: d["items"][0].update(colour="red"),
            "x.yaml: items[power]: unknown field 'colour'",
        ),
        (lambda d: d.update(items=[]), "x.yaml: items: needs at least one item"),
        (lambda d: d["scale"][1].update(value=4), "x.yaml: scale: needs at least two options"),
        (lambda d: d.pop("source"), "x.yaml: source: must be a non-empty text"),
        (lambda d: d.update(version=0), "x.yaml: version: must be a whole number"),
    ],
)
def test_broken_questionnaires_say_which_file_item_and_field(change: Any, message: str) -> None:
    raw = copy.deepcopy(raw_default())
    change(raw)
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(raw, source_name="x.yaml")
    assert str(caught.value).startswith(message)


def test_a_broken_file_in_a_directory_stops_loading(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"^a.yaml: cannot be read"):
        load_questionnaires(tmp_path)
    with pytest.raises(QuestionnaireError, match="no questionnaire files"):
        load_questionnaires(tmp_path / "empty")
