""" "You said, we did" per scope: an admin picks the whole service or one team with buttons, a
manager's update is always their own team's, and nobody else can start one (refused exactly
like an unknown command) or pick a scope (a forged press is answered like a stale button)."""

from __future__ import annotations

from sqlalchemy import text

from conversations import buttons
from tests.people import add_staff, invite, join
from tests.test_e2e_updates import ADMIN, KW, MANAGER, YOUNG, release, rows, service
from tests.world import World

SOUTH_KW = 900301
SOUTH_MANAGER = 900350
SOUTH_YOUNG = [2001, 2002]
VOICE = 900400
OTHER_ADMIN = 900201
TEAMLESS_MANAGER = 900360


async def two_teams(world: World) -> None:
    """North (three young people, from tests/test_e2e_updates.py), South (two), an admin in
    Office and a voice recorder."""
    await service(world)
    await add_staff(world, SOUTH_KW, team="South")
    await add_staff(world, SOUTH_MANAGER, role="manager", team="South", name="Sol")
    await add_staff(world, ADMIN, role="admin", name="Ada", team="Office")
    await add_staff(world, VOICE, role="voice", name="Val", team="Office")
    for user in SOUTH_YOUNG:
        await join(world, user, await invite(world, SOUTH_KW, f"S{user}"))


async def team_id(world: World, name: str) -> int:
    found = {row[0]: row[1] for row in await rows(world, "SELECT name, id FROM teams")}
    return int(str(found[name]))


async def test_an_admin_publishes_for_one_team_then_for_the_whole_service(world: World) -> None:
    await two_teams(world)
    await release(world, "South", "power", 2, 2, 2)
    await release(world, "North", "turn_to", 3, 3, 3)
    await release(world, None, "goals", 5, 4, 5)

    ask = (await world.say(ADMIN, "/yousaid"))[-1]
    assert ask.content.startswith("Who is this update for?")
    labels = [label for label, _data in world.api.buttons(ask)]
    assert labels == ["The whole service", "North", "Office", "South"]
    assert await rows(world, "SELECT count(*) FROM updates") == [(0,)]  # nothing until picked

    chosen = await world.press(ADMIN, "South", ask)
    assert chosen[0].content == "This update is for: South"
    assert world.api.buttons(chosen[0]) == []  # the choice is made: its buttons are gone
    start = chosen[-1].content
    assert "shape" in start  # South's statement ("power")...
    assert "turn to my key worker" not in start  # ...not North's, nor the service's
    previews = await world.say(ADMIN, "We moved the South drop-in to Fridays.")
    assert "This goes to 2 young people" in previews[-1].content
    await world.press(ADMIN, "Send", previews[-1])
    south = await team_id(world, "South")
    sql = "SELECT scope FROM audit_log WHERE action = 'update_sent'"
    assert await rows(world, sql) == [(f"update:1 team:{south} recipients:2",)]
    assert (await world.tick()).updates == 2
    for user in SOUTH_YOUNG:
        assert "South drop-in" in world.last(user).content
    for user in YOUNG:
        assert "South drop-in" not in world.last(user).content

    ask = (await world.say(ADMIN, "/yousaid"))[-1]
    chosen = await world.press(ADMIN, "The whole service", ask)
    assert chosen[0].content == "This update is for: the whole service"
    assert "setting goals that are realistic" in chosen[-1].content  # the service's figure...
    assert "shape" not in chosen[-1].content  # ...not a team's
    assert "turn to my key worker" not in chosen[-1].content
    previews = await world.say(ADMIN, "Every team now answers within a day.")
    assert "This goes to 5 young people" in previews[-1].content
    await world.press(ADMIN, "Send", previews[-1])
    assert (await world.tick()).updates == 5
    for user in [*YOUNG, *SOUTH_YOUNG]:
        assert "within a day" in world.last(user).content
    assert await rows(world, sql + " ORDER BY id") == [
        (f"update:1 team:{south} recipients:2",),
        ("update:2 service recipients:5",),
    ]
    said = await rows(
        world,
        "SELECT DISTINCT c.reader, f.team FROM releases c JOIN release_figures f"
        " ON f.release_id = c.id WHERE c.kind = 'yousaid' ORDER BY c.reader",
    )
    # each update's sentences are in the release ledger under the group they came from
    assert said == [("update:1", "South"), ("update:2", None)]


async def test_a_manager_gets_no_choice_and_cannot_pick_another_scope(world: World) -> None:
    await two_teams(world)
    await release(world, "North", "turn_to", 3, 3, 3)
    await release(world, "South", "power", 2, 2, 2)
    start = await world.say(MANAGER, "/yousaid")
    assert [world.api.buttons(m) for m in start] == [[]]  # straight to their own team
    assert "turn to my key worker" in start[-1].content
    north = await team_id(world, "North")
    assert await rows(world, "SELECT author_id IS NOT NULL, team_id FROM updates") == [
        (True, north)
    ]

    # A forged scope button: South, the service, even their own team: like a stale button.
    south = await team_id(world, "South")
    for team in (south, None, north):
        forged = buttons.encode(buttons.Scope(team))
        await world.press_data(MANAGER, start[-1], forged, verify=False)
        assert world.api.callback_answers[-1]["text"] == "This button no longer works."
    assert await rows(world, "SELECT count(*) FROM updates") == [(1,)]

    # An admin's scope buttons pressed by anyone else (a young person, a key worker, the voice
    # recorder, a manager): stale, and no draft is made.
    ask = (await world.say(ADMIN, "/yousaid"))[-1]
    data = next(d for label, d in world.api.buttons(ask) if label == "South")
    for user in (YOUNG[0], KW, VOICE, SOUTH_MANAGER):
        await world.press_data(user, ask, data, verify=False)
        assert world.api.callback_answers[-1]["text"].startswith("This button no longer works.")
    assert await rows(world, "SELECT count(*) FROM updates") == [(1,)]
    # A team that does not exist (an old button after a team was removed): stale too.
    await world.press_data(ADMIN, ask, buttons.encode(buttons.Scope(999)), verify=False)
    assert world.api.callback_answers[-1]["text"] == "This button no longer works."
    assert await rows(world, "SELECT count(*) FROM updates") == [(1,)]


async def test_everyone_else_is_refused_exactly_like_an_unknown_command(world: World) -> None:
    await two_teams(world)
    await release(world, None, "goals", 5, 4, 5)
    for user in (YOUNG[0], KW, SOUTH_KW, VOICE, 4242):
        unknown = (await world.say(user, "/nonsense"))[-1].content
        for command in ("/yousaid", "/yousaid fa سلام"):
            replies = await world.say(user, command)
            assert [m.content for m in replies] == [unknown], (user, command)
            assert all(world.api.buttons(m) == [] for m in replies)
    assert await rows(world, "SELECT count(*) FROM updates") == [(0,)]

    # A manager with no team (added from the command line without --team) has nothing to publish
    # for: not the service's figures, nor its young people.
    await add_staff(world, TEAMLESS_MANAGER, role="manager", team="Gone", name="Tam")
    assert world.rt is not None
    async with world.rt.db.transaction() as conn:
        await conn.execute(
            text("UPDATE staff SET team_id = NULL WHERE chat_id = :chat"),
            {"chat": TEAMLESS_MANAGER},
        )
    unknown = (await world.say(TEAMLESS_MANAGER, "/nonsense"))[-1].content
    assert [m.content for m in await world.say(TEAMLESS_MANAGER, "/yousaid")] == [unknown]
    assert await rows(world, "SELECT count(*) FROM updates") == [(0,)]

    # An admin deactivated (by another admin) after asking: the command and their old scope
    # buttons stop working.
    await add_staff(world, OTHER_ADMIN, role="admin", name="Bo", team="Office")
    ask = (await world.say(ADMIN, "/yousaid"))[-1]
    assert world.api.buttons(ask)
    unknown = (await world.say(ADMIN, "/nonsense"))[-1].content
    ids = {row[0]: row[1] for row in await rows(world, "SELECT chat_id, id FROM staff")}
    await world.say(OTHER_ADMIN, f"/deactivate {ids[ADMIN]}")
    assert [m.content for m in await world.say(ADMIN, "/yousaid")] == [unknown]
    await world.press(ADMIN, "The whole service", ask)
    assert world.api.callback_answers[-1]["text"] == "This button no longer works."
    assert await rows(world, "SELECT count(*) FROM updates") == [(0,)]
