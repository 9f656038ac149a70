"""Shared comments across releases: blocks of at least k people, shown whole or not at all.

Pure, no I/O. A comment is not a count, but a reader who holds every earlier digest can still
compare the comments shown: a comment that appears between two digests, or disappears, points
at whoever has just checked in, or has just left. So, per key worker and quarter:

- comments enter in **blocks**: in the order they were written, a block closes as soon as it
  holds comments of at least *k* different young people; a comment written later (even by
  someone already shown) waits for the next block. What two digests show therefore differs by
  whole blocks of at least *k* people, never by one person's new comment;
- a block, once shown, is recorded in the release ledger (kind ``comments``: where it ends and
  how many comments it held) and shown again *only whole*: if any of its comments has gone
  (``/forgetme``), the rest of the block is never shown again in that quarter, so no comment can
  be pinned to the one who left by what vanished;
- then, as before, the group must pass :func:`~conversations.disclosure.visible_groups`, and
  comments are redacted, undated and sorted.

Every set of comments a reader can form from all releases (shown in one and not another, and so
on) is a union of blocks: written by at least k young people, or by nobody.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from conversations.disclosure import NodeId, redact, validate_k, visible_groups
from conversations.windows import Window
from storage.records import CommentRecord, ReleasedBlock, ReleasedCell, ReleasedFigure

KIND = "comments"
Key = tuple[datetime, str]
"""A comment's place: when it was written (the window's start when unknown), and its author."""


@dataclass(frozen=True)
class Entry:
    key: Key
    text: str


@dataclass(frozen=True)
class Comments:
    """What a digest may show, and the release to record first (``None``: nothing new)."""

    texts: tuple[str, ...] | None
    release: ReleasedCell | None


def _entries(comments: Iterable[CommentRecord], window: Window) -> dict[NodeId, list[Entry]]:
    by_leaf: dict[NodeId, list[Entry]] = defaultdict(list)
    for c in comments:
        text = redact(c.text).strip()
        if c.shared and text and (c.written_at is None or c.written_at in window):
            key = (c.written_at or window.since, c.respondent)
            by_leaf[(c.team, c.key_worker)].append(Entry(key, text))
    for entries in by_leaf.values():
        entries.sort(key=lambda e: (e.key, e.text))
    return by_leaf


def _blocks(
    entries: Sequence[Entry], recorded: dict[Key, int], k: int
) -> tuple[list[Entry], list[tuple[Key, int]]]:
    """One key worker's comments to show, and the blocks they come from (end, size): old ones
    still whole, then new ones. *entries* are in the order of their keys (:func:`_entries`)."""
    shown: list[Entry] = []
    kept: list[tuple[Key, int]] = []
    keys = [e.key for e in entries]  # in order (sorted by key, then text)
    first = 0  # where the comments after the last mark begin
    for mark in sorted(recorded):
        end = bisect_right(keys, mark, first)
        inside = list(entries[first:end])
        if len(inside) == recorded[mark]:  # whole: shown again; else never again
            shown += inside
            kept.append((mark, recorded[mark]))
        first = max(first, end)
    rest = list(entries[first:])
    new: list[tuple[Key, int]] = []
    block: list[Entry] = []
    people: set[str] = set()
    for i, entry in enumerate(rest):
        block.append(entry)
        people.add(entry.key[1])
        last_of_key = i + 1 == len(rest) or rest[i + 1].key != entry.key
        if len(people) >= k and last_of_key:
            shown += block
            new.append((entry.key, len(block)))
            block, people = [], set()
    return shown, kept + new


def shared_comments_released(
    comments: Iterable[CommentRecord],
    window: Window,
    node: NodeId,
    k: int,
    earlier: Iterable[ReleasedCell] = (),
    *,
    now: datetime | None = None,
    reader: str = "",
) -> Comments:
    """The group's shared comments given every earlier comments release of the window (for the
    whole service: *comments* must cover it), and the release to record before showing them."""
    k = validate_k(k)
    recorded: dict[NodeId, dict[Key, int]] = defaultdict(dict)
    latest: dict[NodeId, set[Key]] | None = None
    for earlier_release in sorted(
        (r for r in earlier if r.kind == KIND and r.since == window.since),
        key=lambda r: r.released_at,
    ):
        latest = defaultdict(set)
        for b in earlier_release.blocks:
            if b.through_at is not None:
                key = (b.through_at, b.through_id or "")
                recorded[(b.team, b.key_worker)].setdefault(key, b.size)
                latest[(b.team, b.key_worker)].add(key)
    shown: dict[NodeId, list[Entry]] = {}
    blocks: list[ReleasedBlock] = []
    marks: dict[NodeId, set[Key]] = {}
    by_leaf = _entries(comments, window)
    for leaf in sorted({*by_leaf, *recorded}):
        entries, mine = _blocks(by_leaf.get(leaf, []), recorded.get(leaf, {}), k)
        shown[leaf] = entries
        blocks += [ReleasedBlock(leaf[0], leaf[1], m[0], m[1], size) for m, size in mine]
        marks[leaf] = {m for m, _ in mine}
    counts = {leaf: len({e.key[1] for e in es}) for leaf, es in shown.items() if es}
    visible = node in visible_groups(counts, k) if counts else False
    texts = None
    if visible:
        found = [e.text for leaf, es in shown.items() if leaf[: len(node)] == node for e in es]
        texts = tuple(sorted(found, key=lambda t: (t.casefold(), t)))
    same = {leaf: m for leaf, m in marks.items() if m} == {
        leaf: m for leaf, m in (latest or {}).items() if m
    }
    release = None
    if blocks and not same:
        people = sum(n for leaf, n in counts.items() if leaf[: len(node)] == node)
        figure = ReleasedFigure(
            node[0] if node else None,
            node[1] if len(node) > 1 else None,
            "shown" if visible else "too_few",
            people if visible else 0,
            None,
            None,
        )
        at = now or window.until
        release = ReleasedCell(window.since, KIND, "", "", at, reader, tuple(blocks), (figure,))
    return Comments(texts, release)
