"""The playground's web page and its JSON endpoints (aiohttp, 127.0.0.1 only).

- ``GET /``: the page (plain HTML, CSS and JavaScript from ``bot/playground_static/``)
- ``GET /favicon.ico``: the page's icon
- ``GET /api/state``: clock, phones, staff phones one may add, violations
- ``GET /api/phones/{key}``: one phone's chat, oldest message first, and its command menu
- ``POST /api/phones``: add a phone, ``{"kind": "young_person", "language_code": "ar"}`` or
  ``{"kind": "staff", "user_id": 900002}``
- ``POST /api/phones/{key}/send``: ``{"text": ...}``, a message or a /command
- ``POST /api/phones/{key}/press``: ``{"message_id": ..., "data": ...}``, press an inline button
- ``POST /api/phones/{key}/open``: ``{"link": ...}``, open a t.me invite link on this phone
- ``POST /api/clock``: ``{"step": "day" | "week" | "month" | "next"}``
- ``GET /api/events``: Server-Sent Events, one JSON object per change
- ``GET /api/photos/{chat_id}/{message_id}``: a photo the bot sent
- ``GET /api/voices/{chat_id}/{message_id}``: a voice message the bot sent (OGG/Opus; in byte
  ranges too, so the page's audio player knows its length)
- ``GET /api/violations``: the requests Telegram would have refused
- ``GET /api/languages``: every language and its catalogue's completeness
- ``GET /api/review/{code}``: the language review of one language
- ``POST /api/review/{code}/check``: ``{"english": [...], "translation": [...]}``, what is wrong
  with a correction (placeholders, commands, markup), checked as the reviewer types, and (right to
  left) how the bot will send it
- ``POST /api/review/{code}/po``: ``{"reviewer": ..., "entries": [{"context", "english",
  "translation": [...], "review": "reviewed" | "needs work" | null}]}``, the reviewed catalogue
- ``GET /fonts/{name}``: a Noto font for Arabic script, Ethiopic or emoji (``fonts.py``)
- ``GET /api/voice/{code}``: the texts that can be read aloud in a language, with or without a clip
- ``POST /api/voice/{code}``: ``{"key": "item.power", "audio": <base64 OGG/Opus>}``, upload a clip

POSTs must be JSON and every request must name this server in its ``Host`` header, so another
web site open in the same browser cannot drive the playground.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.playground import corrections, review, voice
from bot.playground.core import HOST, PlaygroundEngine, PlaygroundError
from bot.playground.demo import DEMO_STAFF
from bot.playground.fonts import add_font_routes
from bot.playground.timeline import chat_timeline, command_menu
from core.i18n import bidi_fix
from local_bot_api.models import BotMessage

STATIC = Path(__file__).resolve().parents[1] / "playground_static"


class Playground(PlaygroundEngine):
    """The running playground with its page: ``async with Playground(settings, port=0) as pg``."""

    def make_page(self) -> web.Application:
        return make_app(self)


KEY: web.AppKey[Playground] = web.AppKey("playground", Playground)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PING_SECONDS = 15.0


def make_app(pg: Playground) -> web.Application:
    """The page's aiohttp application."""
    # Large enough for a voice clip (1 MB) in base64; everything else is far smaller.
    app = web.Application(middlewares=[_guard], client_max_size=2 * 1024 * 1024)
    app[KEY] = pg
    get, post = app.router.add_get, app.router.add_post
    get("/", _index)
    get("/favicon.ico", _favicon)
    app.router.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    add_font_routes(app)
    get("/api/state", _state)
    get("/api/phones/{key}", _phone)
    post("/api/phones", _add_phone)
    post("/api/phones/{key}/send", _send)
    post("/api/phones/{key}/press", _press)
    post("/api/phones/{key}/open", _open)
    post("/api/clock", _clock)
    get("/api/events", _events)
    get("/api/photos/{chat_id}/{message_id}", _photo)
    get("/api/voices/{chat_id}/{message_id}", _voice_message)
    get("/api/violations", _violations)
    get("/api/languages", _languages)
    get("/api/review/{code}", _review)
    post("/api/review/{code}/check", _check)
    post("/api/review/{code}/po", _reviewed_po)
    get("/api/voice/{code}", _voice)
    post("/api/voice/{code}", _upload_voice)
    return app


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only this server's own pages; errors as JSON."""
    pg = request.app[KEY]
    if request.host not in (f"{HOST}:{pg.port}", f"localhost:{pg.port}"):
        return _error(403, "wrong Host header")
    if request.method == "POST" and request.content_type != "application/json":
        return _error(415, "send JSON")
    try:
        return await handler(request)
    except PlaygroundError as exc:
        return _error(400, str(exc))
    except (ValueError, KeyError, TypeError) as exc:
        return _error(400, f"bad request: {exc}")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _ok(**values: Any) -> web.Response:
    return web.json_response({"ok": True, **values})


async def _body(request: web.Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


# ---- the page and its state ---------------------------------------------------------------
async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def _favicon(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "favicon.ico", headers={"Content-Type": "image/x-icon"})


async def _state(request: web.Request) -> web.Response:
    pg = request.app[KEY]
    shown = {phone.user_id for phone in pg.phones}
    return _ok(
        clock=pg.clock_state(),
        bot_username=pg.api.state.bot_user["username"],
        phones=[phone.to_dict() for phone in pg.phones],
        staff=[
            {"user_id": m.user_id, "title": m.title} for m in DEMO_STAFF if m.user_id not in shown
        ],
        violations=pg.api.violations,
        spec=str(pg.spec_path) if pg.spec_path else None,
    )


async def _phone(request: web.Request) -> web.Response:
    pg = request.app[KEY]
    phone = pg.phone(request.match_info["key"])
    zone = pg.rt.settings.zone
    return _ok(
        phone=phone.to_dict(),
        messages=chat_timeline(pg.api, phone.user_id, zone),
        commands=command_menu(pg.api, phone.user_id, phone.language_code),
    )


async def _violations(request: web.Request) -> web.Response:
    return _ok(violations=request.app[KEY].api.violations)


# ---- actions -------------------------------------------------------------------------------
async def _add_phone(request: web.Request) -> web.Response:
    pg = request.app[KEY]
    body = await _body(request)
    if body.get("kind") == "staff":
        phone = pg.add_staff(int(body["user_id"]))
    else:
        code = str(body.get("language_code") or "en")
        if code not in pg.rt.catalogues.codes:
            raise PlaygroundError(f"unknown language {code!r}")
        phone = pg.add_young_person(code)
    return _ok(phone=phone.to_dict())


async def _send(request: web.Request) -> web.Response:
    body = await _body(request)
    request.app[KEY].send(request.match_info["key"], str(body["text"])[:4096])
    return _ok()


async def _press(request: web.Request) -> web.Response:
    body = await _body(request)
    request.app[KEY].press(request.match_info["key"], int(body["message_id"]), str(body["data"]))
    return _ok()


async def _open(request: web.Request) -> web.Response:
    body = await _body(request)
    request.app[KEY].open_link(request.match_info["key"], str(body["link"]))
    return _ok()


async def _clock(request: web.Request) -> web.Response:
    pg = request.app[KEY]
    body = await _body(request)
    note = await pg.move_clock(str(body.get("step")))
    return _ok(clock=pg.clock_state(), note=note)


async def _photo(request: web.Request) -> web.StreamResponse:
    pg = request.app[KEY]
    chat_id, message_id = int(request.match_info["chat_id"]), int(request.match_info["message_id"])
    message: BotMessage | None = pg.api.state.find_message(chat_id, message_id)
    if message is None or message.photo is None:
        raise web.HTTPNotFound
    upload = pg.api.state.files.get(message.file_id or "")
    kind = upload.content_type if upload and upload.content_type.startswith("image/") else ""
    return web.Response(body=message.photo, content_type=kind or "image/png")


async def _voice_message(request: web.Request) -> web.StreamResponse:
    pg = request.app[KEY]
    chat_id, message_id = int(request.match_info["chat_id"]), int(request.match_info["message_id"])
    message: BotMessage | None = pg.api.state.find_message(chat_id, message_id)
    if message is None or message.voice is None:
        raise web.HTTPNotFound
    return _ranged(request, message.voice, "audio/ogg")


def _ranged(request: web.Request, data: bytes, content_type: str) -> web.Response:
    """``data``, or the byte range the browser asked for: an audio player reads the end of an
    OGG stream to learn its length, and shows none without ranges."""
    headers = {"Accept-Ranges": "bytes"}
    try:
        wanted = request.http_range
    except ValueError:
        wanted = slice(len(data), len(data))  # not a range we read: nothing satisfies it
    if wanted.start is None and wanted.stop is None:
        return web.Response(body=data, content_type=content_type, headers=headers)
    start, stop, _ = wanted.indices(len(data))
    if start >= stop:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{len(data)}"})
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
    return web.Response(
        status=206, body=data[start:stop], content_type=content_type, headers=headers
    )


# ---- live updates --------------------------------------------------------------------------
async def _events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: one ``data:`` line of JSON per change, a comment line as keep-alive."""
    pg = request.app[KEY]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    queue = pg.events.listen()
    try:
        await response.write(b'data: {"kind": "hello"}\n\n')
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), PING_SECONDS)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if event is None:
                break
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        pg.events.forget(queue)
    return response


# ---- language review -----------------------------------------------------------------------
async def _languages(request: web.Request) -> web.Response:
    settings = request.app[KEY].rt.settings
    return _ok(languages=review.languages(settings.locales_dir))


async def _review(request: web.Request) -> web.Response:
    pg = request.app[KEY]
    code = request.match_info["code"]
    if code not in pg.rt.catalogues.codes:
        raise web.HTTPNotFound
    settings = pg.rt.settings
    data = review.review(
        code, settings.locales_dir, pg.rt.questionnaires, settings.locales_override_dir
    )
    return _ok(**data)


async def _check(request: web.Request) -> web.Response:
    body = await _body(request)
    english, translation = body.get("english"), body.get("translation")
    if not isinstance(english, list) or not isinstance(translation, list):
        raise ValueError("english and translation must be lists of texts")
    texts = [str(t) for t in translation]
    rtl = request.app[KEY].rt.catalogues.get(request.match_info["code"]).rtl
    return _ok(
        problems=corrections.problems([str(e) for e in english], texts),
        shown=[bidi_fix(text) for text in texts] if rtl else None,
    )


async def _reviewed_po(request: web.Request) -> web.Response:
    """The catalogue with the reviewer's corrections and marks, as a file to download."""
    pg = request.app[KEY]
    code = request.match_info["code"]
    if code not in pg.rt.catalogues.codes or code == "en":
        raise web.HTTPNotFound
    settings = pg.rt.settings
    path = review.catalogue_path(code, settings.locales_dir, settings.locales_override_dir)
    if path is None:
        raise PlaygroundError(f"there is no catalogue for {code!r} yet")
    body = await _body(request)
    try:
        reviewer, entries = corrections.parse(body.get("entries"), body.get("reviewer"))
        data = corrections.reviewed_catalogue(path, code, reviewer, entries, datetime.now(UTC))
    except corrections.CorrectionError as exc:
        return _error(400, str(exc))
    return web.Response(
        body=data,
        content_type="text/x-gettext-translation",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{code}-messages.po"'},
    )


# ---- voice clips ---------------------------------------------------------------------------
def _language(request: web.Request) -> str:
    code = request.match_info["code"]
    if code not in request.app[KEY].rt.catalogues.codes:
        raise web.HTTPNotFound
    return code


async def _voice(request: web.Request) -> web.Response:
    return _ok(**await voice.clips(request.app[KEY].rt, _language(request)))


async def _upload_voice(request: web.Request) -> web.Response:
    code = _language(request)
    body = await _body(request)
    saved = await voice.upload(request.app[KEY].rt, code, str(body["key"]), str(body["audio"]))
    return _ok(**saved)
