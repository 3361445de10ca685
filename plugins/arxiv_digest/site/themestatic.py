"""The theme's static files copied into output/ only when their bytes differ (a Pelican plugin).

Pelican's StaticGenerator copies THEME_STATIC_PATHS into output/THEME_STATIC_DIR on every build
(pelican.utils.copy: shutil.copyfile, whatever the output holds), so a kept output/ gets the same
31 files with new mtimes at each build. STATIC_CHECK_IF_MODIFIED and STATIC_CREATE_LINKS cover
STATIC_PATHS (content/) only, not the theme's. This plugin (listed in PLUGINS after arxiv_digest)
takes the theme's paths over when Pelican initialises: Pelican's list is emptied and the paths are
kept under THEME_STATIC_KEPT; then a generator copies the same files to the same places as Pelican
would (IGNORE_FILES honoured, folders merged, symlinked folders followed), skipping each file
whose output already holds its bytes. A changed, new or damaged file is copied; nothing is
deleted (Pelican deletes nothing either).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pelican import signals

logger = logging.getLogger(__name__)

KEPT = "THEME_STATIC_KEPT"  # the theme's static paths, taken from THEME_STATIC_PATHS


def take_over(pelican: Any) -> None:
    """On `initialized`: keep THEME_STATIC_PATHS for ThemeStatic and empty Pelican's copy of it
    (once: a second initialisation of the same settings finds them kept)."""
    settings = pelican.settings
    if KEPT not in settings:
        settings[KEPT] = list(settings.get("THEME_STATIC_PATHS") or ())
        settings["THEME_STATIC_PATHS"] = []


def _ignored(name: str, ignores: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in ignores)


def pairs(theme: str, paths: Sequence[str], output: str, static_dir: str,
          ignores: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(source, destination) of every file Pelican's StaticGenerator._copy_paths would copy."""
    base = os.path.join(output, static_dir, os.curdir)
    for path in paths:
        source = os.path.abspath(os.path.join(theme, path))
        if _ignored(os.path.basename(source), ignores):
            continue
        if os.path.isfile(source):
            yield source, os.path.join(base, os.path.basename(path))
        elif os.path.isdir(source):
            for folder, subdirs, files in os.walk(source, followlinks=True):
                subdirs[:] = [s for s in subdirs if not _ignored(s, ignores)]
                target = os.path.join(base, os.path.relpath(folder, source))
                for name in files:
                    if not _ignored(name, ignores) and os.path.isfile(os.path.join(folder, name)):
                        yield os.path.join(folder, name), os.path.join(target, name)


def _same(source: str, destination: str) -> bool:
    """Whether destination is a regular file with source's bytes."""
    try:
        if os.path.islink(destination) or os.path.getsize(destination) != os.path.getsize(source):
            return False
        return Path(destination).read_bytes() == Path(source).read_bytes()
    except OSError:
        return False


class ThemeStatic:
    """Copies the theme's static files that the output lacks or holds other bytes of."""

    def __init__(self, *, settings: dict[str, Any], theme: str, output_path: str,
                 **_: Any) -> None:
        self.settings, self.theme, self.output_path = settings, theme, output_path
        self.copied = self.kept = 0

    def generate_output(self, writer: Any) -> None:
        """Copy what changed (Pelican calls this with the other generators' output)."""
        del writer
        paths = self.settings.get(KEPT) or ()
        ignores = self.settings.get("IGNORE_FILES") or ()
        for source, destination in pairs(self.theme, paths, self.output_path,
                                         self.settings.get("THEME_STATIC_DIR", "theme"), ignores):
            if _same(source, destination):
                self.kept += 1
                continue
            try:
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                if os.path.islink(destination):  # never write through a link out of output/
                    os.unlink(destination)
                shutil.copyfile(source, destination)
            except OSError as e:  # as Pelican's copy_file: a warning, the build goes on
                logger.warning("A problem occurred copying file %s to %s; %s", source,
                               destination, e)
                continue
            self.copied += 1
        logger.debug("Theme static files: %d copied, %d already in the output", self.copied,
                     self.kept)


def get_generators(pelican: Any) -> type[ThemeStatic]:
    """The generator Pelican runs (get_generators signal)."""
    return ThemeStatic


def register() -> None:
    """Pelican's plugin entry point."""
    signals.initialized.connect(take_over)
    signals.get_generators.connect(get_generators)
