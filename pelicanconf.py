"""Development settings: `make html` builds the site offline from content/digests/*.json."""

import os

HERE = os.path.dirname(os.path.abspath(__file__))

AUTHOR = "arxiv-digest"
SITENAME = "arXiv digest"
SITESUBTITLE = "New arXiv papers on efficient models, tagged and summarized every announcement day"
SITEURL = ""
# Feeds need absolute links: in development (SITEURL "") they point at `make serve`; publishconf.py
# sets the real site's URL for both. With neither absolute, the plugin writes no feed.
FEED_DOMAIN = "http://127.0.0.1:8000"
PATH = "content"
TIMEZONE = "America/New_York"
# The interface's language (theme/translations/<locale>/LC_MESSAGES/messages.po; English needs none):
# "zh-CN" publishes the Chinese edition. zhconf.py builds it beside the English one, into output/zh/.
DEFAULT_LANG = "en"
# Editions published side by side, linked from every page's header to the same page in the other:
# (language, name, the edition's SITEURL). Empty: one edition, no links. See zhconf.py.
EDITIONS: tuple[tuple[str, str, str], ...] = ()
DEFAULT_DATE_FORMAT = "%A, %d %B %Y"
THEME = "theme"

PLUGIN_PATHS = ["plugins"]
# arxiv_digest.site.themestatic copies the theme's static files only when their bytes changed
# (Pelican copies THEME_STATIC_PATHS at every build, so a kept output/ got new mtimes each time)
PLUGINS = ["arxiv_digest", "arxiv_digest.site.themestatic"]

# One article per announcement day at /YYYY/MM/DD/
ARTICLE_URL = "{date:%Y}/{date:%m}/{date:%d}/"
ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{date:%d}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
# Pelican tags are the digest's topics. A topic page lists papers across days (not days), so the
# plugin writes it (plugins/arxiv_digest/site/topics.py) at TAG_URL, paginated, and Pelican's own tag
# pages and tag feeds are off.
TAG_URL = "topics/{slug}/"
TAG_SAVE_AS = ""
ARXIV_DIGEST_TOPIC_SAVE_AS = "topics/{slug}/index.html"
ARXIV_DIGEST_TOPIC_FEED_ATOM = "feeds/topics/{slug}.atom.xml"
ARXIV_DIGEST_TOPIC_FEED_RSS = "feeds/topics/{slug}.rss.xml"
PAGINATED_TEMPLATES = {"index": None, "tag": None, "category": None, "author": None}
ARXIV_DIGEST_TOPIC_PAGE_SIZE = 25  # papers per topic page (the plugin paginates topic pages by it)
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)
TAGS_URL = "topics/"
TAGS_SAVE_AS = "topics/index.html"
ARCHIVES_URL = "archives/"
ARCHIVES_SAVE_AS = "archives/index.html"
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
SEARCH_URL = "search/"
SEARCH_SAVE_AS = "search/index.html"
DIRECT_TEMPLATES = ["index", "tags", "archives", "search", "404"]

# Feeds: one entry per paper with absolute links and stable ids (tag URIs from the paper page's URL
# and the announcement date), written by the plugin (plugins/arxiv_digest/site/feeds.py): the site
# feeds hold the newest ARXIV_DIGEST_FEED_DAYS days (at most ARXIV_DIGEST_FEED_MAX_ENTRIES papers),
# a topic's feed its newest FEED_MAX_ITEMS papers. Pelican's own feeds (one entry per day, the
# whole page) are off. Links need an absolute base: SITEURL, else FEED_DOMAIN (below).
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
ARXIV_DIGEST_FEED_ATOM = "feeds/all.atom.xml"
ARXIV_DIGEST_FEED_RSS = "feeds/all.rss.xml"
ARXIV_DIGEST_FEED_DAYS = 5
ARXIV_DIGEST_FEED_MAX_ENTRIES = 250
TAG_FEED_ATOM = None  # topic feeds (one entry per paper) are ARXIV_DIGEST_TOPIC_FEED_* above
TAG_FEED_RSS = None
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
RSS_FEED_SUMMARY_ONLY = False
FEED_MAX_ITEMS = 30

DEFAULT_PAGINATION = False
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False

# The plugin's settings (defaults and meaning: plugins/arxiv_digest/core/settings.py)
ARXIV_DIGEST_CATEGORIES = ["cs.AI", "cs.CL", "cs.CV", "cs.LG"]
ARXIV_DIGEST_CONFIG = os.path.join(HERE, "digest.yaml")
ARXIV_DIGEST_LIST_ALL = False
ARXIV_DIGEST_REPLACEMENTS = "separate"
