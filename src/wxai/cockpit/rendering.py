"""Markdown with LaTeX maths to safe HTML, on the server (no CDN, no client-side parser).

The chat answers of the cockpit (from a language model, from tool results, from the
user's documents) are untrusted text. :func:`render_markdown` turns them into HTML in
this order:

1. markdown-it-py (``commonmark`` preset, tables, strikethrough, ``html=False``): raw
   HTML in the text is shown as text, never passed through;
2. maths: ``$...$``, ``$$...$$`` (dollarmath) and ``\\(...\\)``, ``\\[...\\]`` (texmath)
   become MathML by latex2mathml (``display="block"`` for display maths); TeX that
   latex2mathml cannot read becomes its escaped source in ``<code class="math-error">``;
3. nh3 (ammonia) sanitises the *final* HTML with an allow-list of tags and attributes,
   so whatever steps 1 and 2 produce, only what the list names reaches the browser.

Sanitising last is the point: sanitising the input before Markdown (as Open WebUI did)
lets Markdown or the maths converter build markup that no sanitiser has seen.
:func:`render_partial` renders a half-streamed answer, closing an open code fence or
maths block first. See ``docs/rendering.md``.
"""

from __future__ import annotations

import functools
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import nh3
from latex2mathml.converter import Converter
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "MATHML_TAGS",
    "render_markdown",
    "render_partial",
]

MATHML_NS = "http://www.w3.org/1998/Math/MathML"

#: Tags markdown-it produces with the rules enabled here.
MARKDOWN_TAGS = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre",
        "code", "em", "strong", "del", "s", "a", "img", "hr", "br",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip

#: Exactly the MathML elements latex2mathml 3.81 emits (checked over a corpus of
#: formulas: fractions, roots, matrices and arrays, cases, accents, braces, sizes,
#: spaces, boxes, phantoms, colours). No ``maction``, ``semantics``/``annotation``,
#: ``mglyph`` or ``malignmark``.
MATHML_TAGS = frozenset(
    {
        "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "msup", "msub", "msubsup",
        "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr",
        "mtd", "mstyle", "mpadded", "mphantom", "menclose",
    }
)  # fmt: skip

ALLOWED_TAGS = MARKDOWN_TAGS | MATHML_TAGS

#: Presentation attributes latex2mathml writes; never ``href`` (``\href``), ``class``
#: (``\class``) or ``style`` (``\style``), which it also emits.
_MATHML_ATTRIBUTES = frozenset(
    {
        "accent", "columnalign", "columnlines", "columnspacing", "depth", "displaystyle",
        "fence", "form", "height", "largeop", "linebreak", "linethickness", "lspace",
        "mathbackground", "mathcolor", "mathsize", "mathvariant", "maxsize", "minsize",
        "movablelimits", "notation", "rowlines", "rowspacing", "rspace", "scriptlevel",
        "separator", "stretchy", "voffset", "width",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    **{tag: set(_MATHML_ATTRIBUTES) for tag in MATHML_TAGS},
}
# Attributes restricted to fixed values (nh3 wants them out of ALLOWED_ATTRIBUTES).
_ATTRIBUTE_VALUES: dict[str, dict[str, set[str]]] = {
    "math": {"display": {"block", "inline"}, "xmlns": {MATHML_NS}},
    "th": {"align": {"left", "center", "right"}},
    "td": {"align": {"left", "center", "right"}},
}
_LINK_REL = "noopener noreferrer nofollow"
# "data" passes nh3's scheme check only to reach _filter_attribute, which keeps it
# for data:image/png images and nowhere else.
_URL_SCHEMES = {"http", "https", "mailto", "data"}
_LINK_SCHEMES = ("http", "https", "mailto")
# Elements removed with their content, should any reach the sanitiser.
_DROP_WITH_CONTENT = {
    "script", "style", "template", "noscript", "iframe", "object", "embed", "textarea",
    "title", "xmp", "noembed", "noframes", "svg", "select",
}  # fmt: skip

_CODE_CLASS = re.compile(r"(?:language-[A-Za-z0-9_+#.-]{1,40}|math-error)")
_MATH_VALUE = re.compile(r"[A-Za-z0-9.+# -]{0,64}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]+")
_IMAGE_PATH = re.compile(r"/(?:api|static)/[^\\\s]*")
_PNG_DATA = re.compile(r"data:image/png;base64,[A-Za-z0-9+/]+={0,2}")
_ALIGN_STYLE = re.compile(r"text-align:(left|center|right)")
#: TeX longer than this is shown as source rather than converted.
MAX_TEX_CHARS = 4000


def _link_allowed(url: str) -> bool:
    """Whether ``url`` may be a link: http, https, mailto, or relative.

    The percent-decoded form is checked too (``java%09script:`` is harmless to a
    browser, but nothing is lost by refusing it).
    """
    for form in (url, unquote(url)):
        match = _SCHEME.match(_CONTROL.sub("", form))
        if match is not None and match.group(1).lower() not in _LINK_SCHEMES:
            return False
    return True


def _image_allowed(url: str) -> bool:
    """Whether ``url`` may be an image: a server path under /api/ or /static/, or PNG data."""
    if _PNG_DATA.fullmatch(url):
        return True
    if not _IMAGE_PATH.fullmatch(url):
        return False
    return ".." not in unquote(url).split("?", 1)[0].split("/")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 attribute filter: the value checks that a plain allow-list cannot express."""
    if attribute == "href":
        return value if tag == "a" and _link_allowed(value) else None
    if attribute == "src":
        return value if tag == "img" and _image_allowed(value) else None
    if attribute == "class":
        return value if tag == "code" and _CODE_CLASS.fullmatch(value) else None
    if tag in MATHML_TAGS and attribute in _MATHML_ATTRIBUTES:
        return value if _MATH_VALUE.fullmatch(value) else None
    return value


def sanitize_html(html: str) -> str:
    """The final HTML, reduced to the allow-list (also usable for HTML from elsewhere)."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel=_LINK_REL,
        url_schemes=set(_URL_SCHEMES),
        tag_attribute_values={tag: dict(values) for tag, values in _ATTRIBUTE_VALUES.items()},
    )


_CHAR_REF = re.compile(r"&#x([0-9A-Fa-f]{1,6});")


def _char(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return chr(code) if 0 < code <= 0x10FFFF else match.group(0)


def _to_mathml(tex: str, display: bool) -> str:
    """MathML for ``tex``, every text escaped.

    latex2mathml's own ``convert`` un-escapes its whole serialised tree (so that the
    ``&#x...;`` references it writes into texts work), which turns
    ``\\text{<img ...>}`` into a real tag. Here the references are decoded into
    characters in the tree, and the tree is serialised with normal escaping.
    """
    root = Converter(display="block" if display else "inline").convert_to_element(tex)
    for element in root.iter():
        if element.text:
            element.text = _CHAR_REF.sub(_char, element.text)
        if element.tail:
            element.tail = _CHAR_REF.sub(_char, element.tail)
        for name, value in element.attrib.items():
            element.attrib[name] = _CHAR_REF.sub(_char, value)
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)


@functools.lru_cache(maxsize=2048)
def _math(tex: str, display: bool) -> str:
    """MathML for ``tex``, or its escaped source in ``<code class="math-error">``."""
    mathml = None
    if len(tex) <= MAX_TEX_CHARS:
        try:
            mathml = _to_mathml(tex.strip(), display)
        except Exception:  # latex2mathml raises many kinds on bad input
            mathml = None
    if mathml is None:
        error = f'<code class="math-error">{escapeHtml(tex.strip())}</code>'
        return f"<p>{error}</p>\n" if display else error
    return mathml + "\n" if display else mathml


def _render_math_inline(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    return _math(tokens[idx].content, False)


def _render_math_display_inline(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    return _math(tokens[idx].content, True).rstrip("\n")


def _render_math_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    html = _math(token.content, True)
    if token.type == "math_block_eqno" and token.info:
        html += f"<p>({escapeHtml(token.info)})</p>\n"
    return html


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image from the server (or PNG data) as ``<img>``; any other as its alt text."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if _image_allowed(src):
        return self.image(tokens, idx, options, env)
    return escapeHtml(self.renderInlineAsText(token.children or [], options, env))


def _table_align(state: Any) -> None:
    """Core rule: table cell alignment as ``align`` (``style`` is not allowed)."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrGet("style") is not None:
            match = _ALIGN_STYLE.fullmatch(str(token.attrGet("style")))
            token.attrs.pop("style", None)
            if match:
                token.attrSet("align", match.group(1))


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # allow_space/allow_digits off: "it costs $5 and $10" stays prose, "$a^2$" is maths.
    dollarmath_plugin(
        md, allow_space=False, allow_digits=False, allow_labels=False, double_inline=True
    )
    texmath_plugin(md, delimiters="brackets")  # \(...\) inline, \[...\] as blocks
    md.add_render_rule("math_inline", _render_math_inline)
    md.add_render_rule("math_inline_double", _render_math_display_inline)
    md.add_render_rule("math_block", _render_math_block)
    md.add_render_rule("math_block_eqno", _render_math_block)
    md.add_render_rule("image", _render_image)
    md.core.ruler.push("wxai_table_align", _table_align)
    return md


_MD: MarkdownIt | None = None
_MD_LOCK = threading.Lock()


def _markdown() -> MarkdownIt:
    """The shared parser, built on first use."""
    global _MD  # noqa: PLW0603
    if _MD is None:
        with _MD_LOCK:
            if _MD is None:
                _MD = _build()
    return _MD


def render_markdown(text: str) -> str:
    """Safe HTML for Markdown ``text`` with maths; raw HTML in ``text`` shows as text."""
    return sanitize_html(_markdown().render(text or ""))


_FENCE_OPEN = re.compile(r"(?P<prefix>(?:[ \t]*>)*[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_FENCE_CLOSE = re.compile(r"(?:[ \t]*>)*[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*")
_MATH_OPEN = re.compile(r"(?P<prefix>(?:[ \t]*>)*[ \t]*)(?P<open>\$\$|\\\[)(?P<rest>.*)")


def close_open_blocks(text: str) -> str:
    """``text`` with an unterminated code fence, ``$$`` or ``\\[`` block closed at its end.

    A line-based approximation of the block rules (fences and maths blocks inside
    block quotes and list items are recognised by their prefix and indentation).
    """
    fence: tuple[str, str] | None = None  # (prefix, fence marker)
    math: tuple[str, str] | None = None  # (prefix, closing marker)
    for line in text.split("\n"):
        if fence is not None:
            closing = _FENCE_CLOSE.fullmatch(line)
            marker = closing.group("fence") if closing else ""
            if marker[:1] == fence[1][0] and len(marker) >= len(fence[1]):
                fence = None
            continue
        if math is not None:
            if math[1] in line:
                math = None
            continue
        opening = _FENCE_OPEN.fullmatch(line)
        if opening and not (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            fence = (opening.group("prefix"), opening.group("fence"))
            continue
        block = _MATH_OPEN.fullmatch(line)
        if block:
            close = "$$" if block.group("open") == "$$" else "\\]"
            if close not in block.group("rest"):
                math = (block.group("prefix"), close)
    if fence is not None:
        return f"{text}\n{fence[0]}{fence[1]}\n"
    if math is not None:
        return f"{text}\n{math[0]}{math[1]}\n"
    return text


def render_partial(text: str) -> str:
    """Like :func:`render_markdown` for a growing, half-streamed answer.

    An open code fence or maths block is closed first, so the code shows as code while
    it streams and a half-written ``$$`` block shows as maths (or as its source while
    it does not parse yet) instead of as a paragraph of TeX.
    """
    return render_markdown(close_open_blocks(text or ""))
