"""The risk rule language: one line of a ``risk_phrases.yaml`` list as a compiled pattern.

Pure. A rule is written the way a safeguarding lead can read it, and compiled once at start-up
into a regular expression over *prepared* text (see :func:`conversations.safeguarding.prepare`:
normalised, repeated letters squeezed, the list's ``spellings`` applied):

- ``kill myself``: words in a row, in this order, whole words;
- ``suicid*``: a word and any ending (``suicide``, ``suicidal``); ``*کشم``: any beginning
  (``میکشم``, ``بکشم``), ``*ደበድብ*``: the word anywhere inside a longer one (for languages that
  build a verb's person and tense around its stem);
- ``want|wanna die|dead``: ``|`` gives the choices for one word; ``_`` joins words inside a
  choice (``going_to|gonna``);
- ``=bi``: this word exactly, without the language's ``affixes``;
- ``@die``: any word of the list's *concept* ``die`` (``concepts: {die: [die, dying, dead,
  death, suicid*]}``): a concept is a lexicon of one idea, written once and used by many rules
  (``@want + @die``, ``@me .. @cut``); it may be one choice among others (``@die|gone``);
- ``!world|this``: one word that is *not* any of these (mostly in ``harmless`` rules: "want to
  live in !this|the_world" keeps "I want to live in Leeds" quiet, not "in this world");
- ``want + die``: both *terms*, in either order, with at most :data:`GAP` other words between
  (``I don't really want to live``; ``خودمو میکشم`` / ``میکشم خودمو``);
- ``beat* .. me``: the terms in this order, with at most :data:`GAP` words between;
- ``owe* & work*|sell*``: both parts anywhere in the message, in either order, however far apart
  (for two ideas that together say the risk: a debt and being made to work). ``&`` binds
  loosest, so a part may itself be terms joined by ``+`` or ``..`` (``keep* .. passport & leave``).
  A harmless span masked between them separates them, as it does for the other joins.

A list's ``affixes`` (``prefixes:`` and ``suffixes:``) may come on any word that is not marked
``=``: the Arabic present-tense ``ب`` (``بموت``), the Persian object ``و``/``رو``, attached
pronouns. A rule's id (``en.self_harm.3fa2b1``) is its language, category and a short hash of the
rule as written: stable while the line is unchanged (also when a concept it uses grows), and
holding none of its words.
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
Concepts = Mapping[str, tuple[str, ...]]
_NO_CONCEPTS: Concepts = {}


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
    words = prepare(choice.lstrip("=").strip("*")).split()
    parts = [_core(choice.lstrip("="), word, i, len(words)) for i, word in enumerate(words)]
    return " ".join(part if exact else affixes.around(part) for part in parts)


def _core(choice: str, word: str, index: int, count: int) -> str:
    """One prepared word as a regex, with ``*`` at the choice's start or end."""
    core = re.escape(word)
    if choice.endswith("*") and index == count - 1:
        core += r"\w*"
    if choice.startswith("*") and index == 0:
        core = r"\w*" + core
    return core


def _choices(slot: str, concepts: Concepts) -> list[str]:
    """A slot's choices, with every ``@concept`` replaced by its words."""
    found: list[str] = []
    for choice in slot.split("|"):
        if choice.startswith("@"):
            name = choice[1:]
            if name not in concepts:
                raise RuleError(f"{slot!r}: no concept named {name!r}")
            found += [word for item in concepts[name] for word in item.split("|")]
        elif choice:
            found.append(choice)
    return found


def _slot(slot: str, prepare: Prepare, affixes: Affixes, concepts: Concepts, term: str) -> str:
    negated = slot.startswith("!")
    single: set[str] = set()  # one-word choices share one pair of affix groups (compiles faster)
    other: set[str] = set()
    for choice in _choices(slot.lstrip("!"), concepts):
        words = prepare(choice.lstrip("=").strip("*")).split()
        if len(words) == 1 and not choice.startswith("="):
            single.add(_core(choice, words[0], 0, 1))
        elif words:
            other.add(_word(choice, prepare, affixes))
    if single:
        ordered_single = sorted(single, key=len, reverse=True)
        joined = ordered_single[0] if len(single) == 1 else f"(?:{'|'.join(ordered_single)})"
        other.add(affixes.around(joined))
    if not other:
        raise RuleError(f"{term!r}: a word slot is empty once normalised")
    ordered = sorted(other, key=len, reverse=True)
    alternation = ordered[0] if len(ordered) == 1 else f"(?:{'|'.join(ordered)})"
    if negated:  # one word (no mask) that is none of the choices
        return rf"(?!{alternation}(?!\w))[^\s#]+"
    return alternation


def _term(
    term: str, prepare: Prepare, affixes: Affixes, concepts: Concepts, cache: dict[str, str]
) -> str:
    slots = []
    for slot in term.split():
        if slot not in cache:  # a concept's slot recurs in many rules: built once per list
            cache[slot] = _slot(slot, prepare, affixes, concepts, term)
        slots.append(cache[slot])
    if not slots:
        raise RuleError("an empty term")
    return " ".join(slots)


def rule_regex(
    source: str,
    prepare: Prepare,
    affixes: Affixes,
    concepts: Concepts = _NO_CONCEPTS,
    cache: dict[str, str] | None = None,
) -> str:
    """The regex (without boundaries) for one rule line; :class:`RuleError` when unusable.

    ``&`` binds loosest: ``a .. b & c`` is the group ``a .. b`` and the term ``c``, both
    anywhere in the message. Inside a group the terms are joined by ``+`` or ``..``, not both.
    """
    text = " ".join(source.split())
    groups = text.split(" & ")
    if len(groups) > MAX_TERMS:
        raise RuleError(f"{source!r}: at most {MAX_TERMS} parts joined by ' & '")
    slots = {} if cache is None else cache
    parts = [_group(group, source, prepare, affixes, concepts, slots) for group in groups]
    if len(parts) == 1:
        return parts[0]
    anywhere = r" (?:[^#]*? )??"
    return "|".join(
        sorted(
            {anywhere.join(f"(?:{p})" for p in order) for order in itertools.permutations(parts)}
        )
    )


def _group(
    text: str,
    source: str,
    prepare: Prepare,
    affixes: Affixes,
    concepts: Concepts,
    cache: dict[str, str],
) -> str:
    ordered = " .. " in text
    if ordered and " + " in text:
        raise RuleError(
            f"{source!r}: inside one part use either ' + ' (any order) or ' .. ' (in order)"
        )
    split = text.split(" .. " if ordered else " + ")
    terms = [_term(t, prepare, affixes, concepts, cache) for t in split]
    if len(terms) > MAX_TERMS:
        raise RuleError(f"{source!r}: at most {MAX_TERMS} terms")
    gap = rf" (?:[^\s#]+ ){{0,{GAP}}}"
    orders = [terms] if ordered else list(itertools.permutations(terms))
    return "|".join(sorted({gap.join(order) for order in orders}))


def bounded(regex: str) -> str:
    return rf"(?<!\w)(?:{regex})(?!\w)"


def rule_id(language: str, category: str, source: str) -> str:
    """``<language>.<category>.<hash of the rule as written>``: no words of the rule or message."""
    line = " ".join(source.split())
    digest = hashlib.sha1(line.encode("utf-8"), usedforsecurity=False).hexdigest()[:6]
    return f"{language}.{category}.{digest}"


def compile_rules(
    language: str,
    rules: Mapping[str, tuple[str, ...]],
    prepare: Prepare,
    affixes: Affixes,
    concepts: Concepts = _NO_CONCEPTS,
) -> list[Rule]:
    """Every rule of every category (in the given order), compiled; duplicates once."""
    compiled: list[Rule] = []
    seen: set[str] = set()
    cache: dict[str, str] = {}
    for category, sources in rules.items():
        for source in sources:
            regex = rule_regex(source, prepare, affixes, concepts, cache)
            if regex in seen:
                continue
            seen.add(regex)
            compiled.append(Rule(rule_id(language, category, source), category, source, regex))
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


def example(source: str, concepts: Concepts = _NO_CONCEPTS) -> str:
    """A plain sentence a rule must match (first choice of every slot, a word between terms):
    how a reviewer, and the tests, check that every rule of a list still works."""
    words = []
    for group in " ".join(source.split()).split(" & "):
        terms = group.split(" .. ") if " .. " in group else group.split(" + ")
        words += [" ".join(_first(slot, concepts) for slot in t.split()) for t in terms]
    return " really ".join(words).replace("_", " ")


def _first(slot: str, concepts: Concepts) -> str:
    if slot.startswith("!"):
        return "something"
    return _choices(slot, concepts)[0].strip("=*") if _choices(slot, concepts) else ""
