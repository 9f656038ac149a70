"""Fonts for every script the playground shows, served from Debian's Noto packages.

A reviewer's own computer may lack fonts for Ethiopic (Tigrinya, Amharic), Arabic script or
colour emoji, and would then see boxes. ``make system`` installs ``fonts-noto-core`` and
``fonts-noto-color-emoji``; the page's ``fonts.css`` loads them from ``GET /fonts/{name}`` with
``@font-face`` (each limited by ``unicode-range``, so a browser fetches only what a page needs).
Only the files named in :data:`FONTS` are served; a missing one is a 404 and the browser falls
back to its own fonts.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

NOTO = Path("/usr/share/fonts/truetype/noto")
FONTS = frozenset(
    {
        "NotoSansArabic-Regular.ttf",
        "NotoSansArabic-Bold.ttf",
        "NotoSansEthiopic-Regular.ttf",
        "NotoSansEthiopic-Bold.ttf",
        "NotoColorEmoji.ttf",
    }
)


def add_font_routes(app: web.Application, directory: Path = NOTO) -> None:
    """``GET /fonts/{name}``: one of :data:`FONTS` from ``directory``."""

    async def font(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = directory / name
        if name not in FONTS or not path.is_file():
            raise web.HTTPNotFound
        return web.FileResponse(
            path, headers={"Content-Type": "font/ttf", "Cache-Control": "max-age=86400"}
        )

    app.router.add_get("/fonts/{name}", font)
