"""Publishing settings: absolute SITEURL and feeds (the pelican-quickstart split)."""

import os
import sys

sys.path.append(os.curdir)
from pelicanconf import *  # noqa: E402,F403

SITEURL = os.environ.get("SITEURL", "https://arxiv-digest.github.io/arxiv-digest")
RELATIVE_URLS = False
FEED_DOMAIN = SITEURL
# The output is kept between builds (the daily workflow restores it with actions/cache): the page
# writer renders only the pages whose inputs changed and deletes the files the last build wrote
# and this one did not (plugins/arxiv_digest/site/writer.py), so a kept output holds what a fresh
# one would. Deleting it first would render every page of the archive every day.
DELETE_OUTPUT_DIRECTORY = False
