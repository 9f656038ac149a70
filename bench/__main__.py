"""``python -m bench`` (``make bench``): every benchmark, results in bench/results.md.

``python -m bench [--quick] [NAME ...]`` with names among answers, press_backends,
fanout, digest, memory, crash, serve and safeguarding (default: all). ``--quick`` uses small
sizes, to check the benchmarks themselves work; its figures are not the targets' measurements.
Exit status 1 when any target was missed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench import answers, crash, digest, fanout, memory, press_backends, safeguarding, serve

FULL: dict[str, list[str]] = {
    "answers": ["--people", "200", "--presses", "2000", "--trials", "3"],
    "press_backends": ["--people", "100", "--presses", "1000", "--trials", "3"],
    "fanout": ["--prompts", "10000", "--rate", "25", "--limit", "30"],
    "digest": ["--people", "111112", "--answers", "100000,1000000,10000000", "--repeat", "3"],
    "memory": ["--people", "100000", "--due", "200"],
    "crash": ["--kills", "30", "--quiet"],
    "serve": ["--processes", "1", "2", "4", "--people", "40", "--statements", "9"],
    "safeguarding": ["--repeat", "20"],
}
QUICK: dict[str, list[str]] = {
    "answers": ["--people", "50", "--presses", "500", "--trials", "1"],
    "press_backends": ["--people", "20", "--presses", "200", "--trials", "1"],
    "fanout": ["--prompts", "300", "--rate", "25", "--limit", "30"],
    "digest": ["--people", "2000", "--answers", "10000,100000", "--repeat", "1"],
    "memory": ["--people", "10000", "--due", "20"],
    "crash": ["--kills", "5", "--quiet"],
    "serve": ["--processes", "1", "2", "--people", "8", "--statements", "3"],
    "safeguarding": ["--repeat", "1"],
}
MAINS: dict[str, Callable[[list[str]], int]] = {
    "answers": answers.main,
    "press_backends": press_backends.main,
    "fanout": fanout.main,
    "digest": digest.main,
    "memory": memory.main,
    "crash": crash.main,
    "serve": serve.main,
    "safeguarding": safeguarding.main,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("names", nargs="*", choices=[*MAINS, []], metavar="NAME")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    missed: list[str] = []
    for name in args.names or list(MAINS):
        started = time.perf_counter()
        print(f"== {name} ==", flush=True)
        if MAINS[name](sizes[name]) != 0:
            missed.append(name)
        print(f"== {name}: {time.perf_counter() - started:.0f} s ==\n", flush=True)
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
