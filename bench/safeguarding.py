"""Risk matching against the evaluation corpus: detection and false alarms, per language.

``python -m bench.safeguarding`` (also part of ``make bench``) reads
``tests/safeguarding_corpus/<code>.yaml`` (risky and harmless sentences written separately from
the lists, see each file's header for how) and matches every sentence exactly as the bot does
(:func:`conversations.safeguarding.match_risk`, the packaged lists, the writer's language plus
English). It prints, and writes to bench/results.md, per language: risky caught, harmless that
fired (false alarms), and the mean time to check one message. Targets for every language: at
least 95% caught and at most 5% false alarms. The lists were extended against that corpus, so its
figures are in-sample. Smaller sets are reported beside it without a target (:data:`EXTRA`):
ten development sets, every one used to change the lists, so none of them is held out:
``dev/`` and ``dev2/`` (each written as a held-out set, then used to widen the lists),
``held_out/`` (held out until 2026-12-03, used for development from then on; the directory keeps
its name), ``dev3/`` (a self-check written before the lists were rebuilt as concept lexicons) and
``dev4/`` (probes and blind checks written during the rebuild), ``dev5/`` (a last blind
check, 33/104 caught untuned), ``dev6/`` (issue 13's second pass, four batches each measured
before its rules) and ``dev7/``, ``dev7b/``, ``dev7c/`` (the third pass's three batches, each
measured before its rules). Three held-out sets are never used to change the lists or the matcher:
``held_out_2/``, ``held_out_3/`` (written before the second pass changed anything; its
sentences later leaked into a log) and ``held_out_4/`` (written before the third pass changed
anything); their per-language totals are the honest estimate. Only their totals are read: a
set whose sentences were used for tuning is no longer held out and has to be replaced.
``--misses`` prints the sentences behind the figures (for whoever extends the lists: from the
main corpus only; never run it on real messages).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, machine, write_section
from conversations.safeguarding import RiskLists, load_risk_lists, match_risk
from core.i18n import LANGUAGES
from core.settings import DEFAULT_LOCALES_DIR

CORPUS = ROOT / "tests" / "safeguarding_corpus"
(
    DEV,
    DEV2,
    HELD_OUT,
    DEV3,
    DEV4,
    DEV5,
    DEV6,
    DEV7,
    DEV7B,
    DEV7C,
    HELD_OUT_2,
    HELD_OUT_3,
    HELD_OUT_4,
) = (
    CORPUS / name
    for name in (
        "dev",
        "dev2",
        "held_out",
        "dev3",
        "dev4",
        "dev5",
        "dev6",
        "dev7",
        "dev7b",
        "dev7c",
        "held_out_2",
        "held_out_3",
        "held_out_4",
    )
)
# The smaller sets, reported beside the corpus without a target: (title, directory, what it is).
EXTRA = (
    (
        "Development set",
        DEV,
        "`dev/` (15 risky, 8 harmless per language): written after the lists were first "
        "extended, measured as a held-out set, then used to widen the lists, so tuned on too.",
    ),
    (
        "Second development set",
        DEV2,
        "`dev2/` (10 risky, 6 harmless per language): written as a held-out set before the "
        "second widening, then used for the third, so tuned on too.",
    ),
    (
        "Third development set (formerly held out)",
        HELD_OUT,
        "`held_out/` (8 risky, 5 harmless per language): written before the third widening and "
        "held out until 2026-12-03 (37/104 caught then); used for development from 2026-12-03, "
        "when the lists were rebuilt as concept lexicons, so tuned on too.",
    ),
    (
        "Self-check set",
        DEV3,
        "`dev3/` (10 risky, 5 harmless per language): written on 2026-12-03 before the lists "
        "were rebuilt as concept lexicons, to see whether the rebuild generalises; used for "
        "development from then on (83/130 caught, 1/65 fired before it).",
    ),
    (
        "Probes and blind checks",
        DEV4,
        "`dev4/` (23-46 risky, 28-70 harmless per language): everyday harmless uses and risky "
        "phrasings written during the rebuild, with a second and a third blind check written "
        "before the rules for their concepts (40/104 and 17/104 caught before them); used for "
        "development.",
    ),
    (
        "Blind check, then development",
        DEV5,
        "`dev5/` (8 risky, 4 harmless per language): indirect wording written after the lists' "
        "last change of the day and measured once untuned (33/104 caught, 0/52 fired), then used "
        "to widen the lists.",
    ),
    (
        "Sixth development set",
        DEV6,
        "`dev6/` (51-54 risky, 32-36 harmless per language): written on 2026-12-03 after "
        "held_out_3, in the same variety with other sentences, in four batches each measured "
        "before its rules (234/405, 47/130, 33/78 and 25/52 caught; 19/160, 7/104, 8/78 and "
        "20/78 fired), and used to change the lists and the matcher in issue 13's second pass.",
    ),
    (
        "Seventh development set",
        DEV7,
        "`dev7/` (12 risky, 6 harmless per language): written on 2026-12-03 after held_out_4 by "
        "the same engineer, committed and measured before issue 13's third pass changed any rule "
        "(125/156 caught, 11/78 fired), then used to change the lists and the matcher, so tuned "
        "on.",
    ),
    (
        "Seventh development set, second batch",
        DEV7B,
        "`dev7b/` (8 risky, 4 harmless per language): written on 2026-12-03 after dev7's rules by "
        "the same engineer, committed and measured before any rule for it (62/104 caught, 2/52 "
        "fired), then used to change the lists and the matcher, so tuned on.",
    ),
    (
        "Seventh development set, third batch",
        DEV7C,
        "`dev7c/` (6 risky, 3 harmless per language): written on 2026-12-03 after dev7b's rules by "
        "the same engineer, committed and measured before any rule for it (33/78 caught, 0/39 "
        "fired), then used to change the lists, so tuned on.",
    ),
    (
        "Held-out set (the honest estimate)",
        HELD_OUT_2,
        "`held_out_2/` (25-26 risky, 14 hard harmless per language): written on 2026-12-03 by "
        "another engineer who never opened the lists, the matcher or the other sets, while the "
        "lists were rebuilt, and never used to change them (see its README). Measured with the "
        "lists before the rebuild (main at 64e834a): 158/329 caught (48.0%), 13/182 fired "
        "(7.1%); before issue 13's second pass (main at dbfa6dc): 228/329 (69.3%), 15/182 "
        "(8.2%). Never tune on it: a set used that way must be replaced.",
    ),
    (
        "Second held-out set (the honest estimate too)",
        HELD_OUT_3,
        "`held_out_3/` (30-32 risky, 16 harmless per language): written on 2026-12-03 by an AI "
        "engineer before issue 13's second pass changed any rule, without opening the lists or "
        "the other sets' sentences (see its README); measured by per-language totals only, never "
        "tuned on. Before the second pass (main at dbfa6dc): 245/392 caught (62.5%), 25/208 "
        "fired (12.0%). Its sentences later appeared in a helper's test log, so it is replaced "
        "by held_out_4 as the set to trust.",
    ),
    (
        "Third held-out set (the freshest estimate)",
        HELD_OUT_4,
        "`held_out_4/` (30-32 risky, 16 harmless per language): written on 2026-12-03 by an AI "
        "engineer before issue 13's third pass changed any rule, without opening the lists or "
        "the other sets' sentences (see its README); measured by per-language totals only, never "
        "tuned on. Before the third pass (main at 45c43a1): 330/392 caught (84.2%), 4/208 "
        "fired (1.9%).",
    ),
)
CODES = [language.code for language in LANGUAGES]
# The sets whose sentences may be printed (--misses-in): every one already tuned on.
DEVELOPMENT = frozenset(
    d.name for d in (DEV, DEV2, HELD_OUT, DEV3, DEV4, DEV5, DEV6, DEV7, DEV7B, DEV7C)
)
MIN_CAUGHT, MAX_FALSE = 0.95, 0.05


@dataclass(frozen=True)
class Corpus:
    language: str
    risky: list[tuple[str, str]]  # (category, sentence)
    harmless: list[str]


@dataclass(frozen=True)
class Result:
    language: str
    risky: int
    caught: int
    right_category: int
    harmless: int
    false_alarms: int
    missed: list[str]
    fired: list[tuple[str, str]]  # (sentence, rule id)

    @property
    def detection(self) -> float:
        return self.caught / self.risky

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.harmless

    @property
    def on_target(self) -> bool:
        return self.detection >= MIN_CAUGHT and self.false_alarm_rate <= MAX_FALSE


def load_corpus(code: str, directory: Path = CORPUS) -> Corpus:
    data: Any = yaml.safe_load((directory / f"{code}.yaml").read_text("utf-8"))
    risky = [(cat, str(text)) for cat, texts in data["risky"].items() for text in texts]
    return Corpus(code, risky, [str(text) for text in data["harmless"]])


def evaluate(corpus: Corpus, lists: RiskLists) -> Result:
    caught = right = 0
    missed: list[str] = []
    for category, text in corpus.risky:
        found = match_risk(text, corpus.language, lists)
        if found is None:
            missed.append(text)
            continue
        caught += 1
        right += found.category == category
    fired = [
        (text, found.rule)
        for text in corpus.harmless
        if (found := match_risk(text, corpus.language, lists)) is not None
    ]
    return Result(
        corpus.language,
        len(corpus.risky),
        caught,
        right,
        len(corpus.harmless),
        len(fired),
        missed,
        fired,
    )


def timing(corpora: list[Corpus], lists: RiskLists, repeat: int) -> float:
    """Mean microseconds to check one message (every corpus sentence, ``repeat`` times)."""
    texts = [(c.language, t) for c in corpora for t in [*(s for _, s in c.risky), *c.harmless]]
    started = time.perf_counter()
    for _ in range(repeat):
        for code, text in texts:
            match_risk(text, code, lists)
    return (time.perf_counter() - started) / (repeat * len(texts)) * 1e6


def table(results: list[Result], *, target: bool = True) -> list[str]:
    lines = [
        "| language | risky caught | detection | right category | harmless fired | false alarms "
        + ("| on target |" if target else "|"),
        "|---|---:|---:|---:|---:|---:|" + ("---|" if target else ""),
    ]
    for r in results:
        lines.append(
            f"| {r.language} | {r.caught}/{r.risky} | {r.detection:.1%} | "
            f"{r.right_category}/{r.caught} | {r.false_alarms}/{r.harmless} | "
            f"{r.false_alarm_rate:.1%} |"
            + (f" {'yes' if r.on_target else 'NO'} |" if target else "")
        )
    return lines


def totals(results: list[Result]) -> str:
    risky, caught = sum(r.risky for r in results), sum(r.caught for r in results)
    harmless, fired = sum(r.harmless for r in results), sum(r.false_alarms for r in results)
    return (
        f"{caught}/{risky} risky caught ({caught / risky:.1%}), "
        f"{fired}/{harmless} harmless fired ({fired / harmless:.1%})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.safeguarding", description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="timing repetitions")
    parser.add_argument("--misses", action="store_true", help="print missed and fired sentences")
    parser.add_argument(
        "--misses-in",
        metavar="SET",
        help="print missed and fired sentences of one development set (e.g. dev7); refused "
        "for a held-out set, whose sentences must never be printed",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/results.md")
    args = parser.parse_args(argv)
    if args.misses_in is not None and args.misses_in not in DEVELOPMENT:
        print(
            f"--misses-in {args.misses_in}: not a development set (one of "
            f"{', '.join(sorted(DEVELOPMENT))}); held-out sentences are never printed"
        )
        return 2
    started = time.perf_counter()
    lists = load_risk_lists(CODES, DEFAULT_LOCALES_DIR, DEFAULT_LOCALES_DIR)
    load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    for phrase_list in lists.values():
        phrase_list.compiled()  # what each language's first message pays once per process
    compile_ms = (time.perf_counter() - started) * 1000
    corpora = [load_corpus(code) for code in CODES]
    results = [evaluate(corpus, lists) for corpus in corpora]
    extra = [[evaluate(load_corpus(code, d), lists) for code in CODES] for _, d, _ in EXTRA]
    micro = timing(corpora, lists, args.repeat)
    rules = sum(len(lst.rules) for lst in lists.values())
    lines = table(results)
    parts = [f"{totals(results)} on the corpus"]
    parts += [f"{totals(r)} on the {t[0].lower()}" for t, r in zip(EXTRA, extra, strict=True)]
    summary = (
        f"All languages: {'; '.join(parts)}. {rules} rules read in {load_ms:.0f} ms at "
        f"start-up and compiled in {compile_ms:.0f} ms (per language, on its first message); "
        f"one message checked in {micro:.0f} µs on average (its language and English)."
    )
    print("\n".join(["Corpus (the lists were extended against it):", *lines]))
    extra_lines: list[str] = []
    for (title, _, what), found in zip(EXTRA, extra, strict=True):
        print("\n".join([f"{title}:", *table(found, target=False)]))
        extra_lines += ["", f"{title}: {what}", "", *table(found, target=False)]
    print(summary)
    if args.misses_in is not None:
        for code in CODES:
            development = evaluate(load_corpus(code, CORPUS / args.misses_in), lists)
            for text in development.missed:
                print(f"missed  {code}: {text}")
            for text, rule in development.fired:
                print(f"fired   {code}: {text}  [{rule}]")
    if args.misses:
        for r in results:
            for text in r.missed:
                print(f"missed  {r.language}: {text}")
            for text, rule in r.fired:
                print(f"fired   {r.language}: {text}  [{rule}]")
    missed_target = [r.language for r in results if not r.on_target]
    if not args.no_write:
        body = [
            f"`python -m bench.safeguarding` on {machine()}.",
            "",
            "The corpus (`tests/safeguarding_corpus/<code>.yaml`) is machine-drafted, written "
            "separately from the lists; the figures say how the matcher does on it, not on real "
            "messages, until a fluent speaker and the service's safeguarding lead have reviewed "
            f"both. Targets: at least {MIN_CAUGHT:.0%} caught, at most {MAX_FALSE:.0%} false "
            "alarms, in every language.",
            "",
            *lines,
            "",
            *extra_lines,
            "",
            summary,
        ]
        write_section("Safeguarding: risk matching on the evaluation corpus", "\n".join(body))
    print("targets missed: " + (", ".join(missed_target) if missed_target else "none"))
    return 1 if missed_target else 0


if __name__ == "__main__":
    raise SystemExit(main())
