"""Data Docs that open offline: no asset is loaded from the network.

Great Expectations' pages link jQuery, Bootstrap, bootstrap-table, Font Awesome and Vega from
CDNs, and build their index tables in JavaScript, so offline the index is blank. GE ships only
its own styles, fonts and images (``static/``, copied with the report). After each build this
rewrites every page: CDN stylesheets and scripts become one local stylesheet and one local
script stored under ``static/offline/`` (``offline.js`` renders the tables the pages describe),
and remote images become GE's bundled copies; links to documentation stay links. GE's own
``static/`` links are re-rooted too (on validation pages they miss one ``../``).
"""

from __future__ import annotations


import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "static"
OFFLINE_DIR = "static/offline"
_REMOTE = r"""["'](?:https?:)?//[^"']+["']"""
_LINK = re.compile(rf"""<link\b[^>]*\bhref\s*=\s*{_REMOTE}[^>]*>""", re.IGNORECASE)
_SCRIPT = re.compile(rf"""<script\b[^>]*\bsrc\s*=\s*{_REMOTE}[^>]*>\s*</script>""", re.IGNORECASE)
_IMG = re.compile(rf"""(<img\b[^>]*\bsrc\s*=\s*)["'](?:https?:)?//[^"']*/(?P<name>[\w.-]+?)(?:\?[^"']*)?["']""", re.IGNORECASE)
_LOCAL_STATIC = re.compile(r"""(?P<attr>\b(?:src|href))="(?:\./)?(?:\.\./)*static/""")
# any remaining asset reference (src=, or href= of a <link>) to the network: what offline means
REMOTE_ASSET = re.compile(rf"""(?:<(?:script|img|source|iframe)\b[^>]*\bsrc|<link\b[^>]*\bhref)\s*=\s*{_REMOTE}""", re.IGNORECASE)


def make_offline(docs_dir: Path) -> list[Path]:
    """Store the offline assets in ``docs_dir`` and rewrite its pages to them; returns the pages changed."""
    docs_dir = Path(docs_dir)
    target = docs_dir / OFFLINE_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name in ("offline.css", "offline.js"):
        shutil.copyfile(ASSETS / name, target / name)
    changed = []
    for page in docs_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if not REMOTE_ASSET.search(text):
            continue
        page.write_text(rewrite_page(text, _relative_root(docs_dir, page), docs_dir), encoding="utf-8")
        changed.append(page)
    return changed


def rewrite_page(html: str, root: str, docs_dir: Path) -> str:
    """``html`` with its CDN assets replaced by those under ``<root>/static``; ``root`` is relative."""
    styles = f'<link rel="stylesheet" href="{root}{OFFLINE_DIR}/offline.css"/>'
    script = f'<script src="{root}{OFFLINE_DIR}/offline.js"></script>'
    html = _first_only(_LINK, html, styles)
    html = _first_only(_SCRIPT, html, script)

    def local_image(match: re.Match) -> str:
        name = match["name"]
        if (docs_dir / "static" / "images" / name).is_file():
            return f'{match.group(1)}"{root}static/images/{name}"'
        return f'{match.group(1)}""'  # an image GE does not ship: none rather than a network fetch

    html = _IMG.sub(local_image, html)
    # GE's own static/ links are one level short on the deepest (validation) pages
    return _LOCAL_STATIC.sub(lambda m: f'{m["attr"]}="{root}static/', html)


def remote_assets(html: str) -> list[str]:
    """The network asset references left in ``html`` (empty for an offline page)."""
    return [m.group(0) for m in REMOTE_ASSET.finditer(html)]


def _first_only(pattern: re.Pattern, html: str, replacement: str) -> str:
    seen = []

    def swap(_: re.Match) -> str:
        seen.append(True)
        return replacement if len(seen) == 1 else ""

    return pattern.sub(swap, html)


def _relative_root(docs_dir: Path, page: Path) -> str:
    depth = len(page.relative_to(docs_dir).parts) - 1
    return "../" * depth if depth else "./"



