"""The admin side, end to end: adding and deactivating staff, and moving a young person."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text

from conversations.roster import NewStaff, parse_addstaff
from conversations.sending import MESSAGE_MAX, split_lines
from storage.invites import token_hash
from storage.schema import metadata
from tests.people import LINK, add_staff, enrolled, invite, join
from tests.world import START, World

ADMIN = 900001
KW_A = 900101
KW_B = 900102
NEWCOMER = 900201
YP = 1001
YP2 = 1002
UNKNOWN = "Sorry, I don't know that command. Send /help to see what I can do."
NINE = ["Mostly"] * 9

Snapshot = dict[str, list[tuple[object, ...]]]


async def rows(world: World, sql: str, **params: object) -> list[tuple[object, ...]]:
    assert world.rt is not None
    async with world.rt.db.read() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def snapshot(world: World) -> Snapshot:
    """Every table's row count, and every row of the tables an admin command could change."""
    assert world.rt is not None
    shot: Snapshot = {}
    async with world.rt.db.read() as conn:
        for table in metadata.sorted_tables:
            count = await conn.scalar(select(func.count()).select_from(table))
            shot[f"count:{table.name}"] = [(count,)]
            if table.name in ("staff", "teams", "enrolments", "invites", "checkins", "audit_log"):
                result = await conn.execute(select(table).order_by(table.c.id))
                shot[table.name] = [tuple(r) for r in result.all()]
    return shot


async def say_one(world: World, user: int, command: str) -> str:
    """Send a command; the bot answers with exactly one message, whose text is returned."""
    replies = await world.say(user, command)
    assert len(replies) == 1, [r.content for r in replies]
    return replies[0].content or ""


async def staff_id(world: World, name: str) -> int:
    found = await rows(world, "SELECT id FROM staff WHERE name = :name", name=name)
    assert len(found) == 1
    assert isinstance(found[0][0], int)
    return found[0][0]


async def finish_checkin(world: World, user: int) -> None:
    """Answer the check-in on screen, add nothing, keep it private."""
    message = world.last(user)
    for label in NINE:
        message = (await world.press(user, label, message))[-1]
    message = (await world.press(user, "Nothing to add", message))[-1]
    done = await world.press(user, "Keep them private", message)
    assert "Thank you! Your answers are saved." in done[-1].content


# Adding staff


async def test_an_admin_adds_a_key_worker_whose_link_works_once(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    answer = await say_one(world, ADMIN, "/addstaff key_worker North Sam Jones")
    assert answer.startswith("Added Sam Jones as key worker in the team North (staff id 2).")
    assert "new team" not in answer  # North existed already
    assert "expires on Jan 19, 2026" in answer  # the default 14 days
    match = LINK.search(answer)
    assert match is not None
    assert match.group(1) == "checkin_test_bot"
    token = match.group(2)

    assert await rows(world, "SELECT name, role, team_id, chat_id, active FROM staff") == [
        ("Ada", "admin", 1, ADMIN, 1),
        ("Sam Jones", "key_worker", 1, None, 1),
    ]
    assert await rows(
        world, "SELECT kind, token_hash, created_by, staff_id, used_at FROM invites WHERE id = 2"
    ) == [("staff", token_hash(token), 1, 2, None)]
    expiry = await rows(world, "SELECT expires_at FROM invites WHERE id = 2")
    assert str(expiry[0][0]).startswith(str((START + timedelta(days=14)).date()))
    assert ("staff:1", "staff_add", "staff:2") in await rows(
        world, "SELECT actor, action, scope FROM audit_log"
    )

    # The link makes the new chat this key worker, who can then invite young people.
    welcome = await world.say(NEWCOMER, f"/start {token}")
    assert welcome[-1].content.startswith("Welcome, Sam Jones!")
    await invite(world, NEWCOMER, "CD")
    # It works once.
    again = await world.say(NEWCOMER + 1, f"/start {token}")
    assert "already been used" in again[-1].content
    assert await rows(world, "SELECT COUNT(*) FROM staff WHERE chat_id IS NOT NULL") == [(2,)]


async def test_new_teams_and_admins_without_a_team(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    answer = await say_one(world, ADMIN, '/addstaff manager "North East" Mo Farah')
    assert answer.startswith("Added Mo Farah as manager in the team North East (staff id 2).")
    assert "North East is a new team." in answer
    answer = await say_one(world, ADMIN, "/addstaff ADMIN - Lee")
    assert answer.startswith("Added Lee as admin, with no team (staff id 3).")
    assert await rows(world, "SELECT name FROM teams ORDER BY id") == [("North",), ("North East",)]
    assert await rows(world, "SELECT name, role, team_id FROM staff WHERE id > 1") == [
        ("Mo Farah", "manager", 2),
        ("Lee", "admin", None),
    ]


async def test_addstaff_with_bad_arguments_explains_and_changes_nothing(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    before = await snapshot(world)
    usage = "Write it like this: /addstaff key_worker North Sam Jones"
    cases = {
        "/addstaff": usage,
        "/addstaff key_worker North": usage,
        '/addstaff key_worker "North Sam': usage,
        "/addstaff boss North Sam": "The role must be key_worker, manager, admin or voice.",
        "/addstaff key_worker - Sam": "Key workers and managers need a team.",
        "/addstaff manager - Sam": "Key workers and managers need a team.",
        f"/addstaff admin {'T' * 65} Sam": "A team name can have at most 64 characters.",
        f"/addstaff admin - {'N' * 81}": "A name can have at most 80 characters.",
    }
    for command, expected in cases.items():
        answer = await say_one(world, ADMIN, command)
        assert answer.startswith(expected), (command, answer)
        assert "\n" not in answer  # one clear line
    assert await snapshot(world) == before


# The staff list


async def test_the_staff_list_shows_everyone_and_the_admin_commands(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    await add_staff(world, KW_A, name="Sam")
    await say_one(world, ADMIN, "/addstaff manager South Mo")
    await say_one(world, ADMIN, "/addstaff key_worker North Kim")
    await say_one(world, ADMIN, "/deactivate 4")
    answer = await say_one(world, ADMIN, "/staff")
    lines = answer.split("\n")
    assert lines[:5] == [
        "4 staff members:",
        "• 1: Ada, admin, North, joined",
        "• 2: Sam, key worker, North, joined",
        "• 3: Mo, manager, South, not joined yet",
        "• 4: Kim, key worker, North, deactivated",
    ]
    for command in ("/staff", "/addstaff", "/deactivate", "/move"):
        assert any(line.startswith(command) for line in lines[6:]), command
    assert ("staff:1", "staff_list", "service") in await rows(
        world, "SELECT actor, action, scope FROM audit_log"
    )


# Deactivating staff


async def test_a_deactivated_key_worker_is_refused_and_nothing_else_changes(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    await enrolled(world, YP, KW_A, "AB")  # Sam, staff 2, with a young person
    await add_staff(world, KW_B, name="Bea")  # staff 3
    before = await snapshot(world)

    answer = await say_one(world, ADMIN, "/deactivate 2")
    assert answer.startswith("Done. Sam (staff id 2) can no longer use Check-in")
    assert "They still have 1 young person: give them another key worker with /move." in answer

    after = await snapshot(world)
    assert after["staff"] == [
        before["staff"][0],
        (*before["staff"][1][:4], None, "en", 0, *before["staff"][1][7:]),
        before["staff"][2],
    ]
    for unchanged in ("teams", "enrolments", "invites", "checkins"):
        assert after[unchanged] == before[unchanged], unchanged
    assert after["audit_log"][:-1] == before["audit_log"]
    assert after["audit_log"][-1][2:] == ("staff:1", "staff_deactivate", "staff:2")

    for command in ("/invite CD", "/caseload", "/exit AB", "/start", "/help"):
        replies = await world.say(KW_A, command)
        assert all("Sam" not in (r.content or "") for r in replies)
        if command not in ("/start", "/help"):
            assert [r.content for r in replies] == [UNKNOWN], command
    # Everyone else carries on as before.
    await invite(world, KW_B, "EF")
    assert (await world.say(YP, "/checkin"))[-1].content


async def test_deactivating_voids_an_unused_staff_link(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    answer = await say_one(world, ADMIN, "/addstaff key_worker North Kim")
    match = LINK.search(answer)
    assert match is not None
    answer = await say_one(world, ADMIN, "/deactivate 2")
    assert answer.startswith("Done. Kim (staff id 2)")
    assert "young person" not in answer
    refused = await world.say(NEWCOMER, f"/start {match.group(2)}")
    assert "expired" in refused[-1].content
    assert await rows(world, "SELECT chat_id, active FROM staff WHERE id = 2") == [(None, 0)]
    assert (await world.say(NEWCOMER, "/invite"))[-1].content == UNKNOWN


async def test_deactivate_refusals_are_clear_and_change_nothing(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")
    await add_staff(world, KW_A, name="Sam")
    await say_one(world, ADMIN, "/deactivate 2")
    before = await snapshot(world)
    cases = {
        "/deactivate": "Write it like this: /deactivate 7",
        "/deactivate Sam": "Write it like this: /deactivate 7",
        "/deactivate 2 3": "Write it like this: /deactivate 7",
        "/deactivate -2": "Write it like this: /deactivate 7",
        "/deactivate 1": "You cannot deactivate yourself. Please ask another admin.",
        "/deactivate 99": "There is no staff member with the id 99. Send /staff to see the ids.",
        "/deactivate 2": "Sam (staff id 2) is already deactivated.",
    }
    for command, expected in cases.items():
        assert (await say_one(world, ADMIN, command)).startswith(expected), command
    assert await snapshot(world) == before
    assert await rows(world, "SELECT active FROM staff WHERE id = 1") == [(1,)]


# Moving a young person


async def test_moving_a_young_person_keeps_earlier_checkins_with_their_key_worker(
    world: World,
) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")  # staff 1, North
    await enrolled(world, YP, KW_A, "AB")  # Sam, staff 2, North
    await finish_checkin(world, YP)
    await add_staff(world, KW_B, name="Bea", team="South")  # staff 3
    a, b = await staff_id(world, "Sam"), await staff_id(world, "Bea")
    south = (await rows(world, "SELECT id FROM teams WHERE name = 'South'"))[0][0]
    assert "AB" in (await say_one(world, KW_A, "/caseload"))

    answer = await say_one(world, ADMIN, f"/move ab {b}")
    assert answer.startswith("Done. ab now has Bea as their key worker.")
    assert "earlier check-ins stay with their earlier key worker" in answer
    told = world.last(KW_B).content
    assert (
        told == "An admin made you the key worker of AB. Send /caseload to see your young people."
    )

    assert await rows(world, "SELECT key_worker_id, team_id, label, status FROM enrolments") == [
        (b, south, "AB", "active")
    ]
    assert await rows(world, "SELECT key_worker_id, team_id, status FROM checkins") == [
        (a, 1, "finished")
    ]
    assert (
        "staff:1",
        "move",
        f"enrolment:1:key_worker:{a}->{b}",
    ) in await rows(world, "SELECT actor, action, scope FROM audit_log")

    caseload_a = await say_one(world, KW_A, "/caseload")
    assert caseload_a == "You have 0 young people:"
    caseload_b = await say_one(world, KW_B, "/caseload")
    assert caseload_b.startswith("You have 1 young person:\n• AB: joined")
    assert "done: start" in caseload_b
    # The new key worker can now end their support; the old one cannot.
    assert "can't find anyone" in (await say_one(world, KW_A, "/exit AB"))
    assert (await say_one(world, KW_B, "/exit AB")).startswith("Mark support as ended for AB?")


async def test_move_refusals_are_clear_and_change_nothing(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")  # 1
    await enrolled(world, YP, KW_A, "AB")  # Sam, 2
    await add_staff(world, KW_B, name="Bea")  # 3
    await say_one(world, ADMIN, "/addstaff manager North Mo")  # 4
    await say_one(world, ADMIN, "/addstaff key_worker North Kim")  # 5
    await say_one(world, ADMIN, "/deactivate 5")
    exited = await invite(world, KW_A, "GH")
    await join(world, YP2, exited)
    await world.say(YP2, "/forgetme")  # no longer movable, whatever happens next
    before = await snapshot(world)
    usage = "Write it like this: /move AB 7"
    not_key_worker = "is not the staff id of an active key worker. Send /staff to see the ids."
    cases = {
        "/move": usage,
        "/move AB": usage,
        "/move AB Bea": usage,
        "/move 3": usage,
        "/move AB 3x": usage,
        "/move CD 3": "I can't find an enrolled young person called CD.",
        "/move #99 3": "I can't find an enrolled young person called #99.",
        "/move AB 99": f"99 {not_key_worker}",
        "/move AB 1": f"1 {not_key_worker}",  # an admin
        "/move AB 4": f"4 {not_key_worker}",  # a manager
        "/move AB 5": f"5 {not_key_worker}",  # deactivated
        "/move AB 2": "AB already has Sam as their key worker.",
    }
    for command, expected in cases.items():
        assert (await say_one(world, ADMIN, command)).startswith(expected), command
    assert await snapshot(world) == before
    assert world.last(KW_B).content.startswith("Welcome")  # nobody was told anything


async def test_an_ambiguous_label_is_listed_and_picked_by_number(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")  # 1
    await enrolled(world, YP, KW_A, "AB")  # Sam, 2; enrolment 1
    await add_staff(world, KW_B, name="Bea", team="South")  # 3
    await join(world, YP2, await invite(world, KW_B, "ab"))  # enrolment 2
    await add_staff(world, KW_B + 1, name="Cy")  # 4
    before = await snapshot(world)

    answer = await say_one(world, ADMIN, "/move AB 4")
    lines = answer.split("\n")
    assert lines[0] == (
        "More than one young person has the label AB, and labels must be unique to move "
        "someone. Pick one by its number instead, like this: /move #1 4"
    )
    assert lines[1:] == [
        "• #1: key worker Sam (staff id 2), joined Jan 5, 2026",
        "• #2: key worker Bea (staff id 3), joined Jan 5, 2026",
    ]
    assert await snapshot(world) == before

    answer = await say_one(world, ADMIN, "/move #2 4")
    assert answer.startswith("Done. #2 now has Cy as their key worker.")
    assert world.last(KW_B + 1).content.startswith("An admin made you the key worker of ab.")
    assert await rows(world, "SELECT id, key_worker_id FROM enrolments ORDER BY id") == [
        (1, 2),
        (2, 4),
    ]


async def test_moving_onto_a_caseload_with_the_same_label_warns(world: World) -> None:
    await add_staff(world, ADMIN, role="admin", name="Ada")  # 1
    await enrolled(world, YP, KW_A, "AB")  # Sam, 2; enrolment 1
    await add_staff(world, KW_B, name="Bea")  # 3
    await join(world, YP2, await invite(world, KW_B, "AB"))  # enrolment 2
    answer = await say_one(world, ADMIN, "/move #1 3")
    assert "Bea now has more than one young person with this label." in answer


# The pure parts


def test_addstaff_arguments() -> None:
    assert parse_addstaff("Key_Worker North  Sam   Jones") == NewStaff(
        "key_worker", "North", "Sam Jones"
    )
    assert parse_addstaff("manager “North East” Mo") == NewStaff("manager", "North East", "Mo")
    assert parse_addstaff("admin - Lee") == NewStaff("admin", None, "Lee")
    assert parse_addstaff("admin - \u202eLee\u0007") == NewStaff("admin", None, "Lee")
    assert parse_addstaff("admin North") == "usage"


def test_long_staff_lists_are_split_between_lines() -> None:
    lines = [f"line {i:04d} " + "x" * 90 for i in range(100)]
    parts = split_lines(lines, limit=1000)
    assert all(len(part) <= 1000 for part in parts)
    assert "\n".join(parts).split("\n") == lines
    assert split_lines([]) == []


def test_one_splitter_keeps_every_message_within_telegrams_limit() -> None:
    assert MESSAGE_MAX < 4096
    parts = split_lines(["a", "x" * 5000, "b"])
    assert parts == ["a", "x" * MESSAGE_MAX, "b"]
    assert split_lines(["", "  ", ""]) == []
    assert split_lines(["a", "", "b"]) == ["a\n\nb"]
