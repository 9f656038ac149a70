from __future__ import annotations

from tests.world import World


async def test_a_stranger_is_told_how_to_join(world: World) -> None:
    replies = await world.say(7001, "/start")
    assert len(replies) == 1
    assert "ask your key worker for an invite link" in (replies[0].content or "")
