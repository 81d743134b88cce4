"""The strict HTML checker of the cockpit tests and the XSS corpus loader.

The checker has its own allow-list, independent of :mod:`wxai.cockpit.rendering`'s:
:func:`html_problems` lists what makes a piece of HTML unsafe (elements, attributes,
URL schemes, comments, any "<" that opens no allowed tag).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

CORPUS = Path(__file__).with_name("xss_corpus.txt")
NEWLINE_MARK = "␤"  # stands for a line break inside one payload of the corpus


def load_xss_corpus(path: Path = CORPUS) -> list[str]:
    """The payloads of the corpus: one a line, "␤" a line break, ";;" lines comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        line.replace(NEWLINE_MARK, "\n")
        for line in lines
        if line.strip() and not line.startswith(";;")
    ]


# --- the checker: its own allow-list, independent of the module's -----------------

MATHML = {
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose",
}  # fmt: skip
SAFE_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre",
    "code", "em", "strong", "del", "s", "a", "img", "hr", "br",
    "table", "thead", "tbody", "tr", "th", "td",
} | MATHML  # fmt: skip
MATHML_PRESENTATION = {
    "accent", "columnalign", "columnlines", "columnspacing", "depth", "displaystyle",
    "fence", "form", "height", "largeop", "linebreak", "linethickness", "lspace",
    "mathbackground", "mathcolor", "mathsize", "mathvariant", "maxsize", "minsize",
    "movablelimits", "notation", "rowlines", "rowspacing", "rspace", "scriptlevel",
    "separator", "stretchy", "voffset", "width",
}  # fmt: skip
SAFE_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "math": {"xmlns", "display"} | MATHML_PRESENTATION,
    **{tag: set(MATHML_PRESENTATION) for tag in MATHML - {"math"}},
}
LINK_SCHEMES = {"http", "https", "mailto"}
NAMED_DANGER = (
    "<script", "<style", "<iframe", "<object", "<embed", "<svg", "<form", "<meta",
    "<base", "<link", "<template", "<noscript", "<maction", "<input", "<body",
)  # fmt: skip
INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]+")
SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
TAG_IN_SOURCE = re.compile(r"<\s*/?\s*([^\s/>]+)")


def _url_forms(value: str) -> list[str]:
    """``value`` as a browser might read it: entities decoded (repeatedly), whitespace
    and control characters removed, lower case; also percent-decoded, to be strict."""
    decoded = value
    for _ in range(5):
        decoded = html.unescape(decoded)
    plain = INVISIBLE.sub("", decoded).lower()
    return [plain, INVISIBLE.sub("", unquote(plain))]


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"element <{tag}> is not allowed")
        allowed = SAFE_ATTRIBUTES.get(tag, set())
        for name, raw in attrs:
            value = raw or ""
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name not in allowed:
                self.problems.append(f"attribute {name} not allowed on <{tag}>")
            if name in {"href", "src", "xlink:href", "action", "formaction", "data"}:
                self._check_url(tag, name, value)
            if name == "class" and not re.fullmatch(r"language-[\w+#.-]+|math-error", value):
                self.problems.append(f"class {value!r} on <{tag}>")
            if name == "xmlns" and value != "http://www.w3.org/1998/Math/MathML":
                self.problems.append(f"xmlns {value!r}")
            if name == "display" and value not in {"block", "inline"}:
                self.problems.append(f"display {value!r}")
            mathml_value = tag in MATHML and name in MATHML_PRESENTATION
            if mathml_value and not re.fullmatch(r"[A-Za-z0-9.+# -]*", value):
                self.problems.append(f"MathML value {name}={value!r}")
        if tag == "a":
            rel = (dict(attrs).get("rel") or "").split()
            if not {"noopener", "noreferrer", "nofollow"} <= set(rel):
                self.problems.append(f"link without rel noopener noreferrer nofollow: {rel}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in SAFE_TAGS:
            self.problems.append(f"end tag </{tag}> is not allowed")

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration {data!r}")

    def _check_url(self, tag: str, name: str, value: str) -> None:
        if (tag, name) == ("a", "href"):
            for form in _url_forms(value):
                scheme = SCHEME.match(form)
                if scheme and scheme.group(1) not in LINK_SCHEMES:
                    self.problems.append(f"link scheme {scheme.group(1)!r} in {value!r}")
        elif (tag, name) == ("img", "src"):
            for form in _url_forms(value):
                server = re.match(r"/(api|static)/", form) and "\\" not in form
                png = form.startswith("data:image/png;base64,")
                if not (server or png):
                    self.problems.append(f"image source {value!r} is not the server's")
        else:
            self.problems.append(f"URL attribute {name} on <{tag}>")


def html_problems(output: str) -> list[str]:
    """What makes ``output`` unsafe; empty when it is safe."""
    checker = _Checker()
    checker.feed(output)
    checker.close()
    problems = checker.problems
    lowered = output.lower()
    problems += [f"{needle} in the output" for needle in NAMED_DANGER if needle in lowered]
    for match in TAG_IN_SOURCE.finditer(output):  # every "<" must open an allowed tag
        if match.group(1).lower() not in SAFE_TAGS:
            problems.append(f"markup {match.group(0)!r} in the output")
    return problems


def assert_safe(output: str) -> None:
    problems = html_problems(output)
    assert not problems, f"{problems}\n{output}"
