"""The dashboard's HTML pages, put together once when the app is made.

Every signed-in page shares one shell (``pages/_shell.html``: the head with the styles, uPlot and
``common.js``, the top bar, the toast); only its title, its script and its ``<main>`` differ, so
those are all a page file holds. Partials (``pages/_*.html``, such as the flatten dialog) stand
in a page as ``${name}``. The login page has no top bar and no charts: it is a whole file of its
own. Pages are plain ``string.Template`` substitution (no template engine needed for three
placeholders) and are served from memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

FOLDER = Path(__file__).parent / "pages"
SHELL = "_shell.html"


@dataclass(frozen=True, slots=True)
class Page:
    title: str
    """Shown as ``<title> · AlphaDesk``."""
    script: str
    """The page's own script, ``/static/js/<script>.js``."""


#: The pages inside the shell, by file name.
SHELLED: dict[str, Page] = {
    "overview.html": Page("Overview", "overview"),
    "bot.html": Page("Bot", "bot"),
    "backtests.html": Page("Backtests", "backtests"),
    "compare.html": Page("Compare", "compare"),
}
#: The pages served as they are.
WHOLE = ("login.html",)


def render_pages(folder: Path = FOLDER) -> dict[str, bytes]:
    """Every page by file name, as UTF-8 HTML; a missing placeholder or file fails here, at
    start-up, rather than on the first request for the page."""
    partials = {
        path.stem.lstrip("_"): path.read_text(encoding="utf-8").rstrip("\n")
        for path in sorted(folder.glob("_*.html"))
        if path.name != SHELL
    }
    shell = Template((folder / SHELL).read_text(encoding="utf-8"))
    pages = {name: (folder / name).read_bytes() for name in WHOLE}
    for name, page in SHELLED.items():
        try:
            main = Template((folder / name).read_text(encoding="utf-8")).substitute(partials)
        except KeyError as exc:
            raise ValueError(f"page {name}: ${{{exc.args[0]}}} has no partial "
                             f"_{exc.args[0]}.html in {folder}") from None
        html = shell.substitute(title=page.title, script=page.script, main=main)
        pages[name] = html.encode("utf-8")
    return pages
