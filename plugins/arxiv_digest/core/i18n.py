"""The interface language: gettext catalogs of the theme, installed on every Jinja environment.

Pelican's conventions: DEFAULT_LANG names the site's language ("en", "zh-CN" or "zh_CN"), Jinja's
i18n extension (jinja2.ext.i18n in JINJA_ENVIRONMENT["extensions"]) gives templates `_()`,
`ngettext()` and `{% trans %}`, and the catalogs are gettext's
(THEME/translations/<locale>/LC_MESSAGES/messages.po). The .po file is the source: it is compiled
in memory with Babel at build time, so a stale compiled .mo can never be read. English is the
source language (no catalog: the msgids are the English text). Dates are formatted with Babel's
CLDR data through a pattern that is itself a translatable string.
"""

from __future__ import annotations

import datetime as dt
import gettext
import hashlib
import io
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from .errors import ConfigError

logger = logging.getLogger(__name__)

I18N_EXTENSION = "jinja2.ext.i18n"
DOMAIN = "messages"
SOURCE_LANG = "en"


def N_(message: str) -> str:
    """Mark a string for extraction (`make translations`) without translating it here."""
    return message


# CLDR date patterns; each is a msgid, so a catalog gives its language's order and words.
LONG_DATE = N_("EEEE, d MMMM y")  # Thursday, 28 November 2024
SHORT_DATE = N_("EEE d MMM")  # Thu 28 Nov
MONTH = N_("MMMM y")  # November 2024
DAY_IN_MONTH = N_("EEEE d MMMM y")  # Thursday 28 November 2024


# What the theme's scripts show (site.js, atlas.js, radar.js call t("...")): each a msgid of the
# catalog; base.html hands their translations to the scripts as JSON (#i18n-strings).
JS_STRINGS = (
    N_("Showing %(shown)s of %(total)s papers: %(filters)s."),
    N_("Showing %(shown)s of %(total)s papers on this page: %(filters)s."),
    N_("Showing all %(total)s papers."), N_("with code"), N_("from %(source)s"), N_(", "),
    N_("Copied"), N_("Link copied: %(url)s"), N_("Press Ctrl+C"), N_("Copy this link:"),
    N_("Copy link"), N_("Copy BibTeX"), N_("BibTeX copied"), N_("Select and copy"),
    N_("Collapse all abstracts"), N_("Expand all abstracts"),
    N_("%(total)s claims"), N_("%(shown)s of %(total)s claims"), N_("Could not load: %(error)s"),
    N_("Could not save the profile in this browser (%(error)s)."), N_("%(num)s papers from %(name)s"),
    N_("your library"), N_("No library loaded."),
    N_("Add keywords, authors, arXiv ids or a library to see your ranking."),
    N_("Could not load the radar index: %(error)s"), N_("Could not read %(name)s."),
    N_("No entry with a title in %(name)s."), N_("Could not read %(name)s: %(error)s"),
    N_("Could not import %(name)s: %(error)s"), N_("For you on %(day)s"),
    N_("Loading %(num)s day…"), N_("Loading %(num)s days…"),
    N_("Your top %(shown)s of %(total)s papers in 1 day."),
    N_("Your top %(shown)s of %(total)s papers in %(days)s days."),
    N_("Your top %(shown)s of %(total)s papers with code in 1 day."),
    N_("Your top %(shown)s of %(total)s papers with code in %(days)s days."),
    N_("Nothing in these %(total)s papers matches your profile."),
    N_("Nothing in these %(total)s papers with code matches your profile."),
    N_("(updated)"), N_("score %(score)s"), N_("a paper you like"),
    N_("by an author you follow: %(names)s"), N_("close to %(num)s paper in your library: %(titles)s"),
    N_("close to %(num)s papers in your library: %(titles)s"), N_("matches: %(words)s"),
    N_("%(day)s: the display file does not match the index"),
    N_("%(day)s: the author file does not match the index"),
    N_("%(name)s is larger than 10 MB: not loaded."), N_("the file is larger than 10 MB"),
    N_("not a CSL-JSON list of items"), N_("not a radar profile file"), N_("radar index: bad digit"),
    # the search page (js/search/search.js)
    N_("Search the archive"), N_("Search titles, authors, abstracts and summaries"),
    N_("Searching for %(term)s…"), N_("%(num)s result for %(term)s"), N_("%(num)s results for %(term)s"),
    N_("%(num)s result"), N_("%(num)s results"), N_("Load more results"), N_("Filters"),
    N_("Topic"), N_("Category"), N_("Source"), N_("Year"), N_("Month"),
)


def js_strings(tr: gettext.NullTranslations) -> dict[str, str]:
    """The scripts' strings the catalog translates (none for English: the msgids are the text)."""
    return {m: tr.gettext(m) for m in JS_STRINGS if tr.gettext(m) != m}


def _parts(lang: str | None) -> list[str]:
    """'zh-cn' / 'zh_CN' / 'zh-Hans-CN' -> ['zh', 'CN'] / ['zh', 'Hans', 'CN'] (Pelican may lower it)."""
    parts = [p for p in (lang or SOURCE_LANG).replace("_", "-").split("-") if p]
    out = [parts[0].lower()] if parts else [SOURCE_LANG]
    for p in parts[1:]:
        out.append(p.title() if len(p) == 4 else p.upper() if len(p) == 2 else p)
    return out


def lang_tag(lang: str | None) -> str:
    """DEFAULT_LANG as a BCP 47 tag for <html lang> and feeds: 'zh_CN' / 'zh-cn' -> 'zh-CN'."""
    return "-".join(_parts(lang))


def language_name(lang: str | None) -> str:
    """A language tag's English name, as prompts give it: 'en' -> 'English', 'zh-CN' ->
    'Chinese (China)', 'zh-Hans' -> 'Chinese (Simplified)' (CLDR); an unknown tag as it is."""
    try:
        return str(Locale.parse(locale_name(lang)).english_name or lang_tag(lang))
    except (UnknownLocaleError, ValueError):
        return lang_tag(lang)


def locale_name(lang: str | None) -> str:
    """DEFAULT_LANG as a gettext/CLDR locale name: 'zh-CN' -> 'zh_CN'."""
    return "_".join(_parts(lang))


def catalog_path(theme: str | Path, lang: str | None) -> Path:
    """Where the theme's catalog for this language lives (it may not exist)."""
    return Path(theme) / "translations" / locale_name(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=16)
def _compiled(path: str, digest: str) -> gettext.GNUTranslations:
    """The .po at path compiled in memory (digest: its content hash, so an edit is seen)."""
    try:
        with open(path, "rb") as f:
            catalog = read_po(f)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read the gettext catalog: {e}") from e
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translations(theme: str | Path | None, lang: str | None) -> gettext.NullTranslations:
    """The catalog for DEFAULT_LANG in the theme: English (the msgids) has none; any other
    language without a catalog is a configuration error naming the missing file."""
    if locale_name(lang).split("_")[0] == SOURCE_LANG or theme is None:
        return gettext.NullTranslations()
    path = catalog_path(theme, lang)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(
            f"DEFAULT_LANG {lang!r}: no catalog at {path} (expected a gettext .po file; "
            "`make translations` creates and updates them)") from e
    return _compiled(str(path), hashlib.sha256(raw).hexdigest())


def catalog_hash(theme: str | Path | None, lang: str | None) -> str:
    """A hash of the catalog the build uses ('' for English): part of the day cache's key."""
    if theme is None or locale_name(lang).split("_")[0] == SOURCE_LANG:
        return ""
    try:
        return hashlib.sha256(catalog_path(theme, lang).read_bytes()).hexdigest()[:16]
    except OSError:
        return "missing"


def locale(lang: str | None) -> Locale:
    """The CLDR locale of DEFAULT_LANG."""
    try:
        return Locale.parse(locale_name(lang))
    except (UnknownLocaleError, ValueError) as e:
        raise ConfigError(f"DEFAULT_LANG {lang!r}: unknown locale (expected e.g. 'en' or 'zh-CN')") from e


class Formatter:
    """Locale-aware date and number filters for the templates (ldate, sdate, num)."""

    def __init__(self, lang: str | None, tr: gettext.NullTranslations) -> None:
        self.locale = locale(lang)
        self.tr = tr

    def long_date(self, d: dt.date) -> str:
        """'Thursday, 28 November 2024' / '2024年11月28日 星期四'"""
        return format_date(d, self.tr.gettext(LONG_DATE), locale=self.locale)

    def short_date(self, d: dt.date) -> str:
        """'Thu 28 Nov' / '11月28日 周四'"""
        return format_date(d, self.tr.gettext(SHORT_DATE), locale=self.locale)

    def month(self, m: Any) -> str:
        """A calendar month (anything with .year and .month): 'November 2024' / '2024年11月'"""
        return format_date(dt.date(m.year, m.month, 1), self.tr.gettext(MONTH), locale=self.locale)

    def day_in_month(self, d: dt.date) -> str:
        """'Thursday 28 November 2024' (the archive calendar's cells)."""
        return format_date(d, self.tr.gettext(DAY_IN_MONTH), locale=self.locale)

    def weekdays(self) -> list[tuple[str, str]]:
        """(full, abbreviated) weekday names, Monday first."""
        days = self.locale.days["format"]
        return [(str(days["wide"][i]), str(days["abbreviated"][i])) for i in range(7)]

    def known(self, text: Any) -> str:
        """A msgid known only at render time (a label, a failure reason) in the catalog's words;
        anything else (a model's name) as it is."""
        return self.tr.gettext(str(text)) if text else ""

    def why(self, kind: Any) -> str:
        """A failure kind in words, translated."""
        from ..summarize.view import why
        return self.tr.gettext(why(kind))

    def number(self, n: int | float) -> str:
        """'1,504' in the locale's grouping."""
        return format_decimal(n, locale=self.locale)


def install(env: Any, theme: str | Path | None, lang: str | None) -> None:
    """Give a Jinja environment the i18n extension, the catalog and the locale's filters."""
    if I18N_EXTENSION not in env.extensions:
        env.add_extension(I18N_EXTENSION)
    tr = translations(theme, lang)
    env.install_gettext_translations(tr, newstyle=True)
    fmt = Formatter(lang, tr)
    env.filters["ldate"] = fmt.long_date
    env.filters["sdate"] = fmt.short_date
    env.filters["num"] = fmt.number
    env.filters["tr"] = fmt.known
    env.filters["why"] = fmt.why
    env.filters["month_name"] = fmt.month
    env.filters["mdate"] = fmt.day_in_month
    from .reasons import translate_why  # it marks its msgids with N_ from here
    env.filters["topic_why"] = lambda line: translate_why(tr, line)
    env.globals["weekdays"] = fmt.weekdays
    env.globals["html_lang"] = lang_tag(lang)
    env.globals["js_strings"] = js_strings(tr)


def enable_extension(settings: dict[str, Any]) -> None:
    """Add jinja2.ext.i18n to JINJA_ENVIRONMENT["extensions"] (Pelican passes it to Environment)."""
    jinja = dict(settings.get("JINJA_ENVIRONMENT") or {})
    extensions = list(jinja.get("extensions") or [])
    if I18N_EXTENSION not in extensions:
        extensions.append(I18N_EXTENSION)
    jinja["extensions"] = extensions
    settings["JINJA_ENVIRONMENT"] = jinja


def install_on_generator(generator: Any) -> None:
    """generator_init: the catalog of DEFAULT_LANG on the generator's environment (as
    pelican-plugins' i18n_subsites installs its translations)."""
    install(generator.env, generator.settings.get("THEME"), generator.settings.get("DEFAULT_LANG"))


def gettext_for(settings: dict[str, Any]) -> gettext.NullTranslations:
    """The catalog of a Pelican settings dict (for text made in Python: titles, summaries)."""
    return translations(settings.get("THEME"), settings.get("DEFAULT_LANG"))
