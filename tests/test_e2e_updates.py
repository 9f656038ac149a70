""" "You said, we did" end to end: from figures released to staff, through preview and
confirmation, to young people in their languages, at most once each, within the send window."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from conversations.digest import quarter_windows
from conversations.yousaid import Fact, clean_we_did, level_of
from storage import ledger
from storage.records import ReleasedCell, ReleasedFigure
from tests.people import add_staff, invite, join
from tests.test_e2e_staff import MANAGER as STAFF_MANAGER
from tests.test_e2e_staff import service as staff_service
from tests.world import World

KW = 900101
MANAGER = 900150
ADMIN = 900200
YOUNG = [1001, 1002, 1003]


async def rows(world: World, sql: str) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def release(
    world: World, team: str | None, item: str, size: int, low: int, high: int
) -> None:
    """A digest showed staff this figure for ``team`` (None: the service) this quarter."""
    assert world.rt is not None
    now = world.clock.now()
    current, _ = quarter_windows(now)
    figure = ReleasedFigure(team, None, "shown", size, (low, high), None)
    cell = ReleasedCell(current.since, "answers", "start", item, now, "staff:1", (), (figure,))
    async with world.rt.db.transaction() as conn:
        await ledger.record(conn, [cell])


async def service(world: World) -> None:
    """A key worker and manager in North; three young people: English, Farsi, Arabic."""
    await add_staff(world, KW)
    await add_staff(world, MANAGER, role="manager", name="Morgan")
    for user, language in zip(YOUNG, ["English", "فارسی", "العربية"], strict=True):
        token = await invite(world, KW, f"P{user}")
        await join(world, user, token, language=language)


def test_the_you_said_words_never_say_more_than_the_released_band() -> None:
    assert level_of(10, (7, 8)) == "most"
    assert level_of(10, (5, 6)) == "half"
    assert level_of(10, (2, 3)) == "fewer"
    assert level_of(10, (4, 6)) is None  # could be under or over half: no sentence
    assert level_of(0, (0, 0)) is None
    cleaned = clean_we_did("Call 07700 900123 or mail sam@example.org or @sam_kw. We  did it.")
    assert "07700" not in cleaned
    assert "example.org" not in cleaned
    assert "@sam_kw" not in cleaned
    assert cleaned.endswith("We did it.")
    assert Fact("power", "most") != Fact("power", "half")


async def test_a_manager_publishes_an_update_and_each_language_reads_it(world: World) -> None:
    await service(world)
    await release(world, "North", "turn_to", 10, 8, 9)
    await release(world, "North", "goals", 10, 2, 3)
    await release(world, "South", "power", 10, 9, 10)  # another team's: not North's to tell
    await release(world, "North", "respected", 10, 4, 6)  # the band allows no sentence

    start = (await world.say(MANAGER, "/yousaid"))[-1].content
    assert "Most of you agreed:" in start
    assert "turn to my key worker" in start
    assert "Fewer than half of you agreed:" in start
    assert "shape" not in start  # South's statement
    assert "respected" not in start

    previews = await world.say(
        MANAGER, "We now answer within a day. Call 07700 900123 or write to morgan@example.org."
    )
    texts = [m.content for m in previews]
    assert any(t.startswith("Preview: English (en)") for t in texts)
    assert any(t.startswith("Preview: Persian (fa)") or "(fa)" in t.split("\n")[0] for t in texts)
    assert any("(ar)" in t.split("\n")[0] for t in texts)
    assert all("07700" not in t and "example.org" not in t for t in texts)
    farsi = next(t for t in texts if "(fa)" in t.split("\n")[0])
    assert "We now answer within a day." in farsi  # the default language, marked as such
    assert "انگلیسی" in farsi.split("\n")[-1]  # "English", named in Persian
    confirm = previews[-1]
    assert "This goes to 3 young people" in confirm.content

    # A Farsi translation of "we did"; the preview shows it, Arabic stays in English.
    again = await world.say(MANAGER, "/yousaid fa ما حالا ظرف یک روز جواب می‌دهیم.")
    farsi = next(m.content for m in again if "(fa)" in m.content.split("\n")[0])
    assert "ظرف یک روز" in farsi
    assert "We now answer" not in farsi
    assert await rows(world, "SELECT count(*) FROM update_recipients") == [(0,)]

    sent = await world.press(MANAGER, "Send", again[-1])
    assert "Sending to 3 young people" in sent[-1].content
    sql = "SELECT actor, action, scope FROM audit_log WHERE action LIKE 'update%'"
    audit = await rows(world, sql)
    assert audit == [(audit[0][0], "update_sent", "update:1 team:1 recipients:3")]
    assert str(audit[0][0]).startswith("staff:")

    report = await world.tick()
    assert report.updates == 3
    english, farsi_yp, arabic = (world.last(user).content for user in YOUNG)
    assert english.startswith("📣 You said, we did")
    assert "We now answer within a day." in english
    assert "ظرف یک روز" in farsi_yp
    assert "We now answer within a day." in arabic  # untranslated: the default language...
    assert "الإنجليزية" in arabic.split("\n")[-1]  # ...marked as such, "English" in Arabic
    assert "Most of you agreed" not in arabic  # the templated part is in Arabic
    audit = await rows(world, "SELECT action, scope FROM audit_log WHERE action = 'update_reached'")
    assert audit == [("update_reached", "update:1 reached:3 of 3")]
    assert await rows(world, "SELECT status, reached FROM updates") == [("sent", 3)]

    # At most once each: another tick, and a restart, send nothing more.
    assert (await world.tick()).updates == 0
    await world.restart()
    assert (await world.tick()).updates == 0
    assert [m.content for m in world.api.messages(YOUNG[0])].count(english) == 1

    shown = await world.say(YOUNG[1], "/updates")
    assert [m.content for m in shown] == [farsi_yp]
    mine = "\n".join(m.content for m in await world.say(YOUNG[0], "/mydata"))
    assert "Updates from your service that I sent you" in mine


async def test_updates_wait_for_the_send_window_and_skip_stopped_and_blocked(
    world: World,
) -> None:
    await service(world)
    await add_staff(world, ADMIN, role="admin", name="Ada", team="Office")
    await release(world, None, "turn_to", 20, 15, 16)
    await world.say(YOUNG[1], "/stop")
    world.api.block_bot(YOUNG[2])
    await world.idle()
    await world.say(ADMIN, "/yousaid")
    chosen = await world.press(ADMIN, "The whole service")  # an admin picks the scope first
    assert chosen[0].content == "This update is for: the whole service"
    previews = await world.say(ADMIN, "We opened on Saturdays.")
    assert "This goes to 1 young people" in previews[-1].content
    await world.press(ADMIN, "Send", previews[-1])

    world.clock.advance(timedelta(hours=10))  # 21:00 in London: outside the send window
    assert (await world.tick()).updates == 0
    assert await rows(world, "SELECT claimed_at FROM update_recipients") == [(None,)]
    world.clock.advance(timedelta(hours=14))  # 11:00 the next day
    assert (await world.tick()).updates == 1
    assert "We opened on Saturdays." in world.last(YOUNG[0]).content
    assert "We opened" not in world.last(YOUNG[1]).content
    reached = await rows(world, "SELECT scope FROM audit_log WHERE action = 'update_reached'")
    assert reached == [("update:1 reached:1 of 1",)]


async def test_nothing_to_say_without_released_figures_and_only_managers_and_admins(
    world: World,
) -> None:
    await service(world)
    nothing = (await world.say(MANAGER, "/yousaid"))[-1].content
    assert "No figures for your young people have been shown to staff" in nothing
    assert await rows(world, "SELECT count(*) FROM updates") == [(0,)]
    unknown = (await world.say(YOUNG[0], "/nonsense"))[-1].content
    assert (await world.say(KW, "/yousaid"))[-1].content == unknown
    assert (await world.say(YOUNG[0], "/yousaid"))[-1].content == unknown
    none_yet = (await world.say(YOUNG[0], "/updates"))[-1].content
    assert "no updates from your service yet" in none_yet

    await release(world, "North", "turn_to", 10, 8, 9)
    await world.say(MANAGER, "/yousaid")
    too_long = (await world.say(MANAGER, "x" * 601))[-1].content
    assert "1 to 600 characters" in too_long
    previews = await world.say(MANAGER, "We listened.")
    cancelled = await world.press(MANAGER, "Cancel", previews[-1])
    assert "nothing was sent" in cancelled[-1].content
    assert await rows(world, "SELECT status, recipients FROM updates") == [("cancelled", 0)]
    assert (await world.tick()).updates == 0


async def test_forgetme_removes_which_updates_a_young_person_got_but_not_the_counts(
    world: World,
) -> None:
    await service(world)
    await release(world, "North", "turn_to", 10, 8, 9)
    await world.say(MANAGER, "/yousaid")
    previews = await world.say(MANAGER, "We listened.")
    await world.press(MANAGER, "Send", previews[-1])
    assert (await world.tick()).updates == 3
    ask = (await world.say(YOUNG[0], "/forgetme"))[-1]
    await world.press(YOUNG[0], "Delete everything", ask)
    assert await rows(world, "SELECT count(*) FROM update_recipients") == [(2,)]
    assert await rows(world, "SELECT recipients, reached FROM updates") == [(3, 3)]


async def test_an_update_from_the_figures_a_real_digest_released(world: World) -> None:
    users = await staff_service(world, 10, answer="Mostly")  # as the digest test: two blocks of k
    nothing = (await world.say(STAFF_MANAGER, "/yousaid"))[-1].content
    assert "No figures for your young people have been shown to staff" in nothing
    await world.say(STAFF_MANAGER, "/digest")  # the figures are released to staff here
    start = (await world.say(STAFF_MANAGER, "/yousaid"))[-1].content
    # Everyone answered "Mostly", but the digest showed ranges: the words say no more than those.
    assert start.count("At least half of you agreed:") == 3  # the strongest three, never more
    assert "Most of you" not in start
    assert "Fewer than half" not in start
    previews = await world.say(STAFF_MANAGER, "We meet you in the evenings now.")
    assert "This goes to 10 young people" in previews[-1].content
    await world.press(STAFF_MANAGER, "Send", previews[-1])
    assert (await world.tick()).updates == 10
    got = world.last(users[0]).content
    assert got.startswith("📣 You said, we did")
    assert "At least half of you agreed:" in got
    assert "We meet you in the evenings now." in got


async def test_sent_you_said_sentences_are_in_the_release_ledger(world: World) -> None:
    """Every figure shown to anyone is recorded: the sentences young people read go into the
    ledger when the update is sent, each as the range its words allow, which holds the band the
    digest released for the same group, statement, checkpoint and quarter."""
    await staff_service(world, 10, answer="Mostly")
    await world.say(STAFF_MANAGER, "/digest")
    await world.say(STAFF_MANAGER, "/yousaid")
    previews = await world.say(STAFF_MANAGER, "We meet you in the evenings now.")
    assert world.rt is not None
    since = quarter_windows(world.clock.now())[0].since
    async with world.rt.db.read() as conn:
        before = await ledger.released_since(conn, [since], kinds=("yousaid",))
    assert before == []  # a draft shows nothing to young people yet
    await world.press(STAFF_MANAGER, "Send", previews[-1])
    async with world.rt.db.read() as conn:
        cells = await ledger.released_since(conn, [since], kinds=("answers", "yousaid"))
    said = [c for c in cells if c.kind == "yousaid"]
    assert len(said) == 3
    for cell in said:
        (figure,) = cell.figures
        source = [
            f
            for c in cells
            if c.kind == "answers" and (c.checkpoint, c.item_id) == (cell.checkpoint, cell.item_id)
            for f in c.figures
            if (f.team, f.key_worker) == (figure.team, None) and f.positive is not None
        ][-1]
        assert figure.size == source.size
        assert figure.positive is not None
        assert source.positive is not None
        assert figure.positive[0] <= source.positive[0] <= source.positive[1] <= figure.positive[1]
        assert cell.reader.startswith("update:")
