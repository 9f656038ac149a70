"""The risk rule language: one line of a ``risk_phrases.yaml`` list as a compiled pattern.

Pure. A rule is written the way a safeguarding lead can read it, and compiled once at start-up
into a regular expression over *prepared* text (see :func:`conversations.safeguarding.prepare`:
normalised, repeated letters squeezed, the list's ``spellings`` applied):

- ``kill myself``: words in a row, in this order, whole words;
- ``suicid*``: a word and any ending (``suicide``, ``suicidal``);
- ``want|wanna die|dead``: ``|`` gives the choices for one word; ``_`` joins words inside a
  choice (``going_to|gonna``);
- ``=bi``: this word exactly, without the language's ``affixes``;
- ``want + die``: both *terms*, in either order, with at most :data:`GAP` other words between
  (``I don't really want to live``; ``خودمو میکشم`` / ``میکشم خودمو``);
- ``beat* .. me``: the terms in this order, with at most :data:`GAP` words between.

A list's ``affixes`` (``prefixes:`` and ``suffixes:``) may come on any word that is not marked
``=``: the Arabic present-tense ``ب`` (``بموت``), the Persian object ``و``/``رو``, attached
pronouns. A rule's id (``en.self_harm.3fa2b1``) is its language, category and a short hash of its
prepared form: stable while the rule is unchanged, and holding none of its words.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

GAP = 3  # other words allowed between the terms of a rule
MAX_TERMS = 3
MASK = " # "  # what a harmless span becomes: no word, so no rule matches across it

Prepare = Callable[[str], str]


class RuleError(ValueError):
    """A rule that cannot be compiled, with what is wrong (the caller adds where it is)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its id, category, the line as written, and its regex (compiled with the
    others of its category, see :func:`combined`)."""

    id: str
    category: str
    source: str
    regex: str


@dataclass(frozen=True, slots=True)
class Affixes:
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()

    def around(self, core: str) -> str:
        """``core`` (a regex for one word) with the optional prefixes and suffixes."""
        before = _alternation(self.prefixes)
        after = _alternation(self.suffixes)
        return (f"(?:{before})?" if before else "") + core + (f"(?:{after})?" if after else "")


def _alternation(items: Iterable[str]) -> str:
    return "|".join(re.escape(item) for item in sorted(set(items) - {""}, key=len, reverse=True))


def _word(choice: str, prepare: Prepare, affixes: Affixes) -> str:
    """One choice of one word slot as a regex (it may prepare to several words)."""
    exact = choice.startswith("=")
    prefix = choice.endswith("*")
    words = prepare(choice.strip("=*")).split()
    if not words:
        return ""
    parts = []
    for i, word in enumerate(words):
        core = re.escape(word) + (r"\w*" if prefix and i == len(words) - 1 else "")
        parts.append(core if exact else affixes.around(core))
    return " ".join(parts)


def _term(term: str, prepare: Prepare, affixes: Affixes) -> str:
    slots = []
    for slot in term.split():
        choices = {_word(choice, prepare, affixes) for choice in slot.split("|") if choice} - {""}
        if not choices:
            raise RuleError(f"{term!r}: a word slot is empty once normalised")
        ordered = sorted(choices, key=len, reverse=True)
        slots.append(ordered[0] if len(ordered) == 1 else f"(?:{'|'.join(ordered)})")
    if not slots:
        raise RuleError("an empty term")
    return " ".join(slots)


def rule_regex(source: str, prepare: Prepare, affixes: Affixes) -> str:
    """The regex (without boundaries) for one rule line; :class:`RuleError` when unusable."""
    text = " ".join(source.split())
    ordered = " .. " in text
    if ordered and " + " in text:
        raise RuleError(f"{source!r}: use either ' + ' (any order) or ' .. ' (in order), not both")
    terms = [_term(t, prepare, affixes) for t in text.split(" .. " if ordered else " + ")]
    if len(terms) > MAX_TERMS:
        raise RuleError(f"{source!r}: at most {MAX_TERMS} terms")
    gap = rf" (?:[^\s#]+ ){{0,{GAP}}}"
    orders = [terms] if ordered else list(itertools.permutations(terms))
    return "|".join(sorted({gap.join(order) for order in orders}))


def bounded(regex: str) -> str:
    return rf"(?<!\w)(?:{regex})(?!\w)"


def rule_id(language: str, category: str, regex: str) -> str:
    digest = hashlib.sha1(regex.encode("utf-8"), usedforsecurity=False).hexdigest()[:6]
    return f"{language}.{category}.{digest}"


def compile_rules(
    language: str,
    rules: Mapping[str, tuple[str, ...]],
    prepare: Prepare,
    affixes: Affixes,
) -> list[Rule]:
    """Every rule of every category (in the given order), compiled; duplicates once."""
    compiled: list[Rule] = []
    seen: set[str] = set()
    for category, sources in rules.items():
        for source in sources:
            regex = rule_regex(source, prepare, affixes)
            if regex in seen:
                continue
            seen.add(regex)
            compiled.append(Rule(rule_id(language, category, regex), category, source, regex))
    return compiled


def combined(rules: list[Rule]) -> re.Pattern[str] | None:
    """One pattern for ``rules``: group ``r<i>`` is rule ``i``, so ``match.lastgroup`` says
    which rule matched (one search per category, however many rules it has)."""
    if not rules:
        return None
    return re.compile(bounded("|".join(f"(?P<r{i}>{r.regex})" for i, r in enumerate(rules))))


def spelling_table(
    spellings: Mapping[str, str], prepare_word: Prepare
) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """Whole-word replacements (text-speak, keyboard and spelling variants) as one pattern."""
    table = {prepare_word(k): prepare_word(v) for k, v in spellings.items()}
    table = {k: v for k, v in table.items() if k and k != v}
    if not table:
        return None, {}
    keys = sorted(table, key=len, reverse=True)
    return re.compile(bounded("|".join(re.escape(k) for k in keys))), table


def example(source: str) -> str:
    """A plain sentence a rule must match (first choice of every slot, a word between terms):
    how a reviewer, and the tests, check that every rule of a list still works."""
    text = " ".join(source.split())
    terms = text.split(" .. ") if " .. " in text else text.split(" + ")
    words = [" ".join(slot.split("|")[0].strip("=*") for slot in t.split()) for t in terms]
    return " really ".join(words).replace("_", " ")
