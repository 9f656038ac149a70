"""Catalogues are compiled once per process for each version of a file: a restart in the same
process (and every end-to-end test after the first) reuses them, and an edited file is
compiled anew."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core import i18n
from core.i18n import Catalogues
from core.settings import DEFAULT_LOCALES_DIR


def test_a_second_start_compiles_nothing_and_an_edit_is_seen(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(DEFAULT_LOCALES_DIR, locales)
    Catalogues(locales)
    compiled = i18n._compile_file.cache_info().misses
    again = Catalogues(locales)
    assert i18n._compile_file.cache_info().misses == compiled, "a second start recompiled"
    assert again.get("ar").gettext("(deleted)") != "(deleted)"

    po = locales / "ar" / "LC_MESSAGES" / "messages.po"
    text = po.read_text("utf-8")
    marker = 'msgid "(deleted)"\nmsgstr "'
    assert marker in text
    po.write_text(text.replace(marker, marker + "EDITED "), "utf-8")
    stat = po.stat()
    os.utime(po, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    edited = Catalogues(locales)
    assert i18n._compile_file.cache_info().misses == compiled + 1
    assert "EDITED" in edited.get("ar").gettext("(deleted)")
