"""The theme's static files reach output/ as Pelican would copy them, and only when they changed."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import build_site


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _stamps(root: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_theme_static_files_are_copied_as_pelican_would_and_only_when_changed(
        site_dir: Path, tmp_path: Path) -> None:
    """With the real theme (31 files): the output's theme/ equals what Pelican's own copy gives
    (the plugin off), a second build rewrites none of them (same mtime and inode), an edited file
    is copied alone, a damaged one is restored, a symlink planted in output/ is replaced without
    writing through it, IGNORE_FILES are not copied, and a file the theme no longer has stays
    (Pelican deletes nothing either)."""
    static = site_dir / "theme" / "static"
    assert len([p for p in static.rglob("*") if p.is_file()]) >= 30
    (static / ".#site.css").write_text("an editor's lock file")
    # Pelican matches IGNORE_FILES against base names when it copies the theme, so its default
    # (**/.*) ignores nothing there; a base-name pattern does
    ignore = ["**/.*", ".#*"]
    plain = build_site(site_dir, tmp_path / "plain", PLUGINS=["arxiv_digest"], IGNORE_FILES=ignore)
    out = build_site(site_dir, tmp_path / "out", IGNORE_FILES=ignore)
    theme_out = out / "theme"
    assert _tree(theme_out) == _tree(plain / "theme")
    assert ".#site.css" not in {p.name for p in theme_out.rglob("*")}
    expected = {p.relative_to(static).as_posix(): p.read_bytes() for p in static.rglob("*")
                if p.is_file() and not p.name.startswith(".#")}
    assert _tree(theme_out) == expected

    before = _stamps(theme_out)
    build_site(site_dir, out, IGNORE_FILES=ignore)
    assert _stamps(theme_out) == before  # nothing rewritten

    css = next(p for p in sorted(static.rglob("*.css")) if not p.name.startswith(".#"))
    rel = css.relative_to(static).as_posix()
    css.write_bytes(css.read_bytes() + b"\n/* edited */\n")
    js = next(p for p in sorted(static.rglob("*.js")))
    js_rel = js.relative_to(static).as_posix()
    (theme_out / js_rel).write_bytes(b"damaged")  # same name, other bytes
    outside = tmp_path / "outside.txt"
    outside.write_text("not the site's")
    linked = next(n for n in sorted(expected) if n not in (rel, js_rel))
    (theme_out / linked).unlink()
    (theme_out / linked).symlink_to(outside)
    (theme_out / "gone.css").write_text("a file the theme dropped")
    build_site(site_dir, out, IGNORE_FILES=ignore)
    after = _stamps(theme_out)
    changed = {name for name in before if after.get(name) != before[name]}
    assert changed == {rel, js_rel, linked}
    assert _tree(theme_out) == {**expected, rel: css.read_bytes(), "gone.css": b"a file the theme dropped"}
    assert (theme_out / rel).read_bytes() == css.read_bytes()
    assert (theme_out / js_rel).read_bytes() == js.read_bytes()
    assert not (theme_out / linked).is_symlink() and outside.read_text() == "not the site's"
    assert os.path.getsize(theme_out / linked) == len(expected[linked])
