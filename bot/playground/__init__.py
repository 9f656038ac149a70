"""The playground: try Check-in in a browser, without Telegram or the internet.

``checkin-bot playground`` runs the real bot against the local Bot API stand-in and serves a page
on 127.0.0.1 with phones side by side (a key worker, young people, more staff), a clock control
that moves the service's time, the stand-in's violations, and a language review view. See
:class:`Playground` (the engine), :mod:`bot.playground.web` (the endpoints) and
``bot/playground_static/`` (the page: plain HTML, CSS and JavaScript, no build step).
"""

from bot.playground.core import PlaygroundError
from bot.playground.run import run_playground
from bot.playground.web import Playground

__all__ = ["Playground", "PlaygroundError", "run_playground"]
