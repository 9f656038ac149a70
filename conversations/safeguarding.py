"""Risk in free text: preparing a message and matching it against per-language risk rules.

Pure functions, no I/O apart from :func:`load_risk_lists`, which reads the YAML lists once at
start-up. The lists are data (``locales/<code>/risk_phrases.yaml``), each with its review status;
a service adds rules (or removes ones that misfire, by their text or their id) with files of the
same shape in the directory named by ``CHECKIN_RISK_PHRASES_DIR``.

Matching stays explainable to a safeguarding lead, and fast (everything is compiled once):

1. the message and every rule go through the same :func:`prepare`: :func:`normalise` (case,
   accents and harakat, keyboard variants of Arabic-script letters, digits, zero-width characters
   and punctuation folded; in :mod:`conversations.risk_text`), repeated letters squeezed
   (``dieeee``, ``kill`` and ``kil`` agree), then the list's ``spellings`` (text-speak and
   spelling variants, whole words: ``wanna`` -> ``want to``, ``k`` -> ``khong``);
2. the list's ``harmless`` rules (known harmless uses: sport, school, an asylum story) mask what
   they match, so no risk rule can fire inside "they beat me at football";
3. the first category (in :data:`CATEGORIES` order) with a rule that matches wins. The rule
   language (words in a row, ``*`` endings, ``|`` choices, terms in any order with a few words
   between, per-language affixes, ``@concept`` lexicons shared by many rules, ``!`` for "a word
   other than", ``&`` for two ideas anywhere in the message) is described in
   :mod:`conversations.risk_rules`.

The :class:`Match` names the rule by id (``en.self_harm.3fa2b1``, never the message's words): it
is logged with the category, stored with the alert and shown to the lead. A young person's
message is checked against their own language's list and the English one, because many write in
English.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conversations.risk_rules import (
    MASK,
    Affixes,
    Rule,
    RuleError,
    combined,
    compile_rules,
    example,
    spelling_table,
)
from conversations.risk_text import SPACES, fold_forms, squeeze
from conversations.risk_text import normalise as normalise  # re-exported: callers import it here

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C one when libyaml is there
CATEGORIES = ("self_harm", "abuse", "exploitation", "missing", "danger")
FILE_NAME = "risk_phrases.yaml"
MAX_PHRASE = 300  # a rule with many choices is long
MAX_CONCEPT = 2000  # one line of a concept's words


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matched a message: its category, language, id and the rule as written
    (the id is for logs and alerts; neither holds the message's words)."""

    category: str
    language: str
    rule: str
    source: str


@dataclass(frozen=True, slots=True)
class _Patterns:
    """A list's compiled regexes: its harmless uses, and one pattern per category."""

    harmless: re.Pattern[str] | None
    by_category: tuple[tuple[re.Pattern[str], list[Rule]], ...]


@dataclass(frozen=True)
class PhraseList:
    """One language's risk rules, by category, with its review status, compiled once."""

    language: str
    review_status: str
    phrases: Mapping[str, tuple[str, ...]]
    sources: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    harmless: tuple[str, ...] = ()
    spellings: Mapping[str, str] = field(default_factory=dict)
    affixes: Affixes = field(default_factory=Affixes)
    concepts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = field(init=False, compare=False, repr=False)
    _spelling: tuple[re.Pattern[str] | None, dict[str, str]] = field(
        init=False, compare=False, repr=False
    )
    _harmless_rules: tuple[Rule, ...] = field(init=False, compare=False, repr=False)
    _patterns: list[_Patterns] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Write every rule as a regex; :class:`RuleError` names a rule that cannot be used.

        The regexes are compiled on the list's first :meth:`find` (:meth:`compiled`), not here:
        compiling all 13 lists took about 4-7 s of CPU at every start-up and in every test
        process, while a running bot mostly meets two or three languages.
        """
        setattr_ = object.__setattr__
        setattr_(self, "_spelling", (None, {}))
        word = self._prepare_words
        setattr_(self, "_spelling", spelling_table(self.spellings, word))
        ordered = {c: tuple(self.phrases.get(c, ())) for c in CATEGORIES}
        rules = compile_rules(self.language, ordered, word, self.affixes, self.concepts)
        setattr_(self, "rules", tuple(rules))
        harmless = compile_rules(
            self.language, {"harmless": self.harmless}, word, self.affixes, self.concepts
        )
        setattr_(self, "_harmless_rules", tuple(harmless))
        setattr_(self, "_patterns", [])

    def compiled(self) -> _Patterns:
        """The list's compiled patterns (harmless, then one per category), made once."""
        if not self._patterns:
            by_category = []
            for category in CATEGORIES:
                of_category = [rule for rule in self.rules if rule.category == category]
                pattern = combined(of_category)
                if pattern is not None:
                    by_category.append((pattern, of_category))
            self._patterns.append(
                _Patterns(combined(list(self._harmless_rules)), tuple(by_category))
            )
        return self._patterns[0]

    @property
    def size(self) -> int:
        return sum(len(phrases) for phrases in self.phrases.values())

    def _prepare_words(self, text: str) -> str:
        prepared = squeeze(fold_forms(normalise(text, self.language), self.language))
        pattern, table = self._spelling
        return pattern.sub(lambda m: table[m.group(0)], prepared) if pattern else prepared

    def prepare(self, text: str) -> str:
        """``text`` as the rules see it: prepared, with known harmless uses masked."""
        prepared = self._prepare_words(text)
        harmless = self.compiled().harmless
        if harmless is not None:
            prepared = SPACES.sub(" ", harmless.sub(MASK, prepared)).strip()
        return prepared

    def find(self, text: str) -> Match | None:
        """The first rule (by category, then list order) that matches ``text``."""
        by_category = self.compiled().by_category
        if not by_category:
            return None
        prepared = self.prepare(text)
        for pattern, rules in by_category:
            found = pattern.search(prepared)
            if found and found.lastgroup:
                rule = rules[int(found.lastgroup[1:])]
                return Match(rule.category, self.language, rule.id, rule.source)
        return None

    def example(self, source: str) -> str:
        """A plain sentence that one of this list's rules must match (see ``risk_rules``)."""
        return example(source, self.concepts)

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id (to explain an alert), or None when the list has changed."""
        return next((rule for rule in self.rules if rule.id == rule_id), None)


RiskLists = Mapping[str, PhraseList]


def match_risk(text: str, language: str | None, lists: RiskLists) -> Match | None:
    """The rule that matches ``text``, checked in ``language`` and in English, or None."""
    codes = [code for code in dict.fromkeys((language or "en", "en")) if code in lists]
    for code in codes:
        found = lists[code].find(text)
        if found:
            return found
    return None


def explain(rule_id: str, lists: RiskLists) -> Rule | None:
    """The rule an alert names, from the lists as they are now (None if it has gone)."""
    code = rule_id.split(".", 1)[0]
    return lists[code].rule(rule_id) if code in lists else None


class RiskListError(ValueError):
    """A risk phrase file that cannot be used, with its path and what is wrong."""


def parse_list(
    data: Any,
    language: str,
    source: str,
    *,
    extension: bool = False,
    known_concepts: Mapping[str, tuple[str, ...]] | None = None,
) -> PhraseList:
    """One file's contents as a :class:`PhraseList`; :class:`RiskListError` names the problem.
    A service's file may use (and add words to) the packaged list's ``known_concepts``."""
    if not isinstance(data, dict):
        raise RiskListError(f"{source}: must be a mapping with review_status and categories")
    status = data.get("review_status")
    if not extension and (not isinstance(status, str) or not status.strip()):
        raise RiskListError(f"{source}: review_status: must say who wrote and reviewed the list")
    categories = data.get("categories") or {}
    if not isinstance(categories, dict):
        raise RiskListError(f"{source}: categories: must be a mapping")
    phrases: dict[str, tuple[str, ...]] = {}
    for category, items in categories.items():
        if category not in CATEGORIES:
            raise RiskListError(
                f"{source}: categories.{category}: unknown (use {', '.join(CATEGORIES)})"
            )
        phrases[category] = _phrases(items, f"{source}: categories.{category}")
    removed = _phrases(data.get("remove") or [], f"{source}: remove")
    harmless = _phrases(data.get("harmless") or [], f"{source}: harmless")
    spellings = _spellings(data.get("spellings") or {}, f"{source}: spellings")
    affixes = _affixes(data.get("affixes") or {}, f"{source}: affixes")
    concepts = _concepts(data.get("concepts") or {}, f"{source}: concepts")
    for name, words in (known_concepts or {}).items():
        concepts[name] = tuple(dict.fromkeys((*words, *concepts.get(name, ()))))
    return _compiled(
        source,
        language,
        str(status or "").strip(),
        phrases,
        (source,),
        removed,
        harmless,
        spellings,
        affixes,
        concepts,
    )


def _compiled(source: str, *args: Any) -> PhraseList:
    try:
        return PhraseList(*args)
    except (RuleError, re.error) as exc:
        raise RiskListError(f"{source}: {exc}") from None


def _phrases(items: Any, where: str, longest: int = MAX_PHRASE) -> tuple[str, ...]:
    if not isinstance(items, list):
        raise RiskListError(f"{where}: must be a list of phrases")
    for item in items:
        if not isinstance(item, str) or not item.strip() or len(item) > longest:
            raise RiskListError(f"{where}: {item!r} is not a phrase of 1-{longest} characters")
    return tuple(item.strip() for item in items)


def _spellings(items: Any, where: str) -> dict[str, str]:
    if not isinstance(items, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
        for k, v in items.items()
    ):
        raise RiskListError(f"{where}: must map each variant to the word it stands for")
    return {str(k): str(v) for k, v in items.items()}


def _concepts(items: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(items, dict) or not all(
        isinstance(name, str) and re.fullmatch(r"\w+", name) for name in items
    ):
        raise RiskListError(f"{where}: must map each concept's name (one word) to its words")
    return {name: _phrases(words, f"{where}.{name}", MAX_CONCEPT) for name, words in items.items()}


def _affixes(items: Any, where: str) -> Affixes:
    if not isinstance(items, dict) or set(items) - {"prefixes", "suffixes"}:
        raise RiskListError(f"{where}: must be a mapping with prefixes and suffixes")
    return Affixes(
        _phrases(items.get("prefixes") or [], f"{where}.prefixes"),
        _phrases(items.get("suffixes") or [], f"{where}.suffixes"),
    )


def merge(base: PhraseList, extra: PhraseList) -> PhraseList:
    """A service's additions (and removals, by rule text or rule id) applied to a packaged list."""
    removed = {normalise(p, base.language) for p in extra.removed}
    gone = {rule.source for rule in base.rules if rule.id in set(extra.removed)}
    merged: dict[str, tuple[str, ...]] = {}
    for category in CATEGORIES:
        phrases = (*base.phrases.get(category, ()), *extra.phrases.get(category, ()))
        kept = [p for p in phrases if normalise(p, base.language) not in removed and p not in gone]
        if kept:
            merged[category] = tuple(dict.fromkeys(kept))
    status = base.review_status
    if extra.review_status:
        status = f"{status}; service additions: {extra.review_status}"
    affixes = Affixes(
        base.affixes.prefixes + extra.affixes.prefixes,
        base.affixes.suffixes + extra.affixes.suffixes,
    )
    concepts = {
        name: tuple(dict.fromkeys((*base.concepts.get(name, ()), *extra.concepts.get(name, ()))))
        for name in (*base.concepts, *extra.concepts)
    }
    return _compiled(
        extra.sources[0] if extra.sources else base.language,
        base.language,
        status,
        merged,
        base.sources + extra.sources,
        (),
        tuple(dict.fromkeys((*base.harmless, *extra.harmless))),
        {**base.spellings, **extra.spellings},
        affixes,
        concepts,
    )


def load_risk_lists(
    codes: Iterable[str], locales_dir: Path, packaged_dir: Path, extra_dir: Path | None = None
) -> dict[str, PhraseList]:
    """Every language's list: ``<locales_dir>/<code>/risk_phrases.yaml`` (else the packaged one),
    plus a service's ``<extra_dir>/<code>/risk_phrases.yaml`` when there is one."""
    lists: dict[str, PhraseList] = {}
    for code in codes:
        path = locales_dir / code / FILE_NAME
        if not path.is_file():
            path = packaged_dir / code / FILE_NAME
        if not path.is_file():
            raise RiskListError(f"{path}: missing (every language needs a risk phrase list)")
        found = _parsed(path, code, extension=False)
        extra = extra_dir / code / FILE_NAME if extra_dir else None
        if extra is not None and extra.is_file():
            addition = parse_list(
                _read(extra), code, str(extra), extension=True, known_concepts=found.concepts
            )
            found = merge(found, addition)
        lists[code] = found
    return lists


def _parsed(path: Path, code: str, *, extension: bool) -> PhraseList:
    """A file's list, compiled once per process while the file is unchanged (compiling every
    list takes about a second; a process that builds several runtimes pays it once)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise RiskListError(f"{path}: cannot be read ({type(exc).__name__})") from None
    return _parse_file(str(path), stamp, code, extension)


@functools.lru_cache(maxsize=64)
def _parse_file(path: str, _stamp: int, code: str, extension: bool) -> PhraseList:
    return parse_list(_read(Path(path)), code, path, extension=extension)


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text("utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RiskListError(f"{path}: cannot be read as YAML ({type(exc).__name__})") from None
