"""A client that goes away mid-request is a normal event for the local Bot API stand-in.

When a bot process is killed (``bench/crash.py`` does it with SIGKILL) while it is sending a
request, the stand-in must not print aiohttp's "Connection lost" traceback: at most one quiet
debug line. Driven for real: an aiohttp client starts a request whose body never ends, then
closes its connection while the stand-in is reading it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from local_bot_api import LocalBotAPI

BOUNDARY = "checkin-disconnect"
BODIES = {
    "json": ("application/json", b'{"chat_id": 1, "text": "half a mess'),
    "multipart": (
        f"multipart/form-data; boundary={BOUNDARY}",
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="chat_id"\r\n\r\n1\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="photo"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + b"\xff\xd8\xff" * 1000,
    ),
}
METHODS = {"json": "sendMessage", "multipart": "sendPhoto"}


async def _body_that_never_ends(first: bytes, sent: asyncio.Event) -> AsyncIterator[bytes]:
    yield first
    sent.set()
    await asyncio.Event().wait()  # the rest never comes: the client goes away first
    yield b""


@pytest.mark.parametrize("kind", sorted(BODIES))
async def test_a_client_gone_mid_request_leaves_no_traceback(
    kind: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    content_type, first = BODIES[kind]
    method = METHODS[kind]
    caplog.set_level(logging.DEBUG)
    async with LocalBotAPI() as api:
        url = f"{api.base_url}{api.token}/{method}"
        sent = asyncio.Event()
        async with aiohttp.ClientSession() as session:
            request = asyncio.create_task(
                session.post(
                    url,
                    data=_body_that_never_ends(first, sent),
                    headers={"Content-Type": content_type},
                )
            )
            await sent.wait()
            # The stand-in has the request and is reading its body when the client goes.
            await api.wait_until(
                lambda: api.request_counts[method] == 1 and api.state.inflight == 1
            )
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
        # The session is closed, and with it the connection: the handler ends.
        await api.wait_until(lambda: api.state.inflight == 0)

        # The stand-in carries on serving, and recorded no error for the bot to answer for.
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url[: -len(method)]}getMe") as me,
        ):
            assert me.status == 200
            assert (await me.json())["ok"] is True
        assert api.errors == []

    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert [
        r for r in caplog.records if r.exc_info is not None or r.levelno >= logging.WARNING
    ] == []
    assert "Connection lost" not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name == "local_bot_api.server"]
    assert ours == [f"a client went away during {method}"]
    assert all(
        r.levelno == logging.DEBUG for r in caplog.records if r.name.startswith("local_bot_api")
    )
