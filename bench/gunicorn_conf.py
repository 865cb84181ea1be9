"""gunicorn settings for serving NetCourt KB: load jieba, the fast segmenter and the index's user
dictionary once in the master, before the workers fork, so they share it and answer at once.

    KB_INDEX_DIR=instance/index gunicorn -c bench/gunicorn_conf.py -w 4 --preload 'webapp:create_app()'

Without it each worker loads the dictionaries (about 1.5 s and 100+ MB each) on its first request.
"""

from __future__ import annotations

import os
from pathlib import Path

from indexer.analyzer import initialize, load_dictionary
from indexer.build import USER_DICTIONARY, current_build

initialize()
_build = current_build(Path(os.environ.get("KB_INDEX_DIR", "instance/index")))
if _build is not None:
    load_dictionary(_build / USER_DICTIONARY)
