"""Reach across releases end to end: every change of whether a young person can be reached is
kept with its time (``reach_events``: the enrolment, never a chat id), and ``/digest`` records
its reach figures in the release ledger, counted in blocks of k per key worker."""

from __future__ import annotations

from datetime import timedelta

from tests.test_e2e_staff import MANAGER, rows, service
from tests.world import World


async def test_blocking_stopping_and_coming_back_are_kept_with_their_time(world: World) -> None:
    users = await service(world, 6)
    enrolled = await rows(world, "SELECT count(*) FROM reach_events WHERE reachable")
    assert enrolled == [(6,)]  # each enrolment's first event: reachable from when they agreed
    columns = await rows(world, "SELECT name FROM pragma_table_info('reach_events')")
    assert not any("chat" in str(name) for (name,) in columns)
    world.clock.advance(timedelta(hours=1))
    await world.say(users[0], "/stop")
    world.clock.advance(timedelta(hours=1))
    world.api.block_bot(users[1])
    await world.idle()
    world.clock.advance(timedelta(hours=1))
    world.api.unblock_bot(users[1])
    await world.idle()
    ids = {chat: eid for chat, eid in await rows(world, "SELECT chat_id, id FROM enrolments")}
    mine = {ids[users[0]], ids[users[1]]}
    history = [
        row
        for row in await rows(
            world, "SELECT enrolment_id, reachable, at FROM reach_events ORDER BY id"
        )
        if row[0] in mine
    ]
    changes = [(int(str(eid)), bool(ok)) for eid, ok, _ in history]
    first, second = sorted({eid for eid, _ in changes})
    assert changes == [
        (first, True),
        (second, True),
        (first, False),  # /stop
        (second, False),  # blocked the bot
        (second, True),  # unblocked it
    ]
    times = [str(at) for _, _, at in history[2:]]
    assert times == sorted(times)
    assert len(set(times)) == 3  # each at its own time
    await world.say(MANAGER, "/digest")
    reach = await rows(
        world,
        "SELECT b.size FROM releases r JOIN release_blocks b ON b.release_id = r.id "
        "WHERE r.kind = 'reach'",
    )
    assert reach == [(5,)]  # 6 with the key worker: one block of 5, the sixth waits
    # nothing changed since: asking again records no new reach figures
    await world.say(MANAGER, "/digest")
    assert await rows(world, "SELECT count(*) FROM releases WHERE kind = 'reach'") == [(1,)]
