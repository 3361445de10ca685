"""The Chinese (zh-CN) edition beside the English one: `make html-zh` builds it into output/zh/.

Same content and plugin settings as the English site (pelicanconf.py, or publishconf.py when
PUBLISH is set, as `make publish-zh` does); only the interface language, the sub-path and the
output folder differ. Both editions link to each other's copy of the page (EDITIONS). Summaries in
Chinese come from the model (`language: Chinese` in digest.yaml's llm section, cached per language);
the offline extractive summary stays in the abstract's language and is labelled so.
"""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

if os.environ.get("PUBLISH"):
    from publishconf import *  # noqa: F403 (the publish settings, then this edition's)
else:
    from pelicanconf import *  # noqa: F403

ROOT_SITEURL = SITEURL  # noqa: F405 (the English edition's)
DEFAULT_LANG = "zh-CN"
SITEURL = f"{ROOT_SITEURL}/zh"
FEED_DOMAIN = f"{FEED_DOMAIN}/zh"  # noqa: F405
OUTPUT_PATH = os.path.join(HERE, "output", "zh")  # noqa: F405
DELETE_OUTPUT_DIRECTORY = False  # inside the English edition's output/, built first
SITENAME = "arXiv 每日摘要"
SITESUBTITLE = "每个公布日的高效模型新论文，附主题标签与总结"  # noqa: RUF001 (Chinese punctuation)
EDITIONS = (("en", "English", ROOT_SITEURL), ("zh-CN", "中文", SITEURL))
