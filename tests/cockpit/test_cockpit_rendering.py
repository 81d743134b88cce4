"""Markdown with maths to safe HTML: rendering, the XSS corpus, streaming, dollar amounts."""

from __future__ import annotations

import html
import re
import time

import pytest
from html_checker import MATHML, SAFE_TAGS, assert_safe, html_problems, load_xss_corpus
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt

from wxai.cockpit import rendering
from wxai.cockpit.rendering import close_open_blocks, render_markdown, render_partial

# --- the checker catches real bypasses ------------------------------------------

KNOWN_BAD = [
    "<script>alert(1)</script>",
    "<p><img src=x onerror=alert(1)></p>",
    '<img src="/api/figures/a.png" onerror="alert(1)">',
    '<a href="javascript:alert(1)" rel="noopener noreferrer nofollow">x</a>',
    '<a href=" JaVaScRiPt:alert(1)" rel="noopener noreferrer nofollow">x</a>',
    '<a href="java&#x09;script:alert(1)" rel="noopener noreferrer nofollow">x</a>',
    '<a href="javascript&colon;alert(1)" rel="noopener noreferrer nofollow">x</a>',
    '<a href="&amp;#106;avascript:alert(1)" rel="noopener noreferrer nofollow">x</a>',
    '<a href="data:text/html,x" rel="noopener noreferrer nofollow">x</a>',
    '<a href="https://ok.example">no rel</a>',
    '<img src="https://evil.example/track.png">',
    '<img src="//evil.example/track.png">',
    '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
    "<svg onload=alert(1)>",
    '<math><mi href="javascript:alert(1)">x</mi></math>',
    '<math><maction actiontype="statusline">x</maction></math>',
    '<p style="position:fixed">x</p>',
    '<code class="evil">x</code>',
    '<math xmlns="http://www.w3.org/2000/svg"><mi>x</mi></math>',
    "<!-- a comment -->",
    "<iframe src=/api/x></iframe>",
    "<p id=clobber>x</p>",
    "<mstyle mathcolor=\"url('x')\">x</mstyle>",
]


@pytest.mark.parametrize("bad", KNOWN_BAD)
def test_checker_catches_known_bad_html(bad: str) -> None:
    assert html_problems(bad), bad


def test_checker_accepts_ordinary_output() -> None:
    assert_safe(render_markdown("# T\n\n*a* [b](https://x.example) $x^2$ ![f](/api/f/1.png)"))


# --- the corpus ---------------------------------------------------------------


def test_corpus_is_large_and_plain() -> None:
    payloads = load_xss_corpus()
    assert len(payloads) >= 40
    assert len(set(payloads)) == len(payloads)
    assert any("\n" in payload for payload in payloads)  # the line-break mark works


@pytest.mark.parametrize("payload", load_xss_corpus())
def test_xss_payload_renders_inert(payload: str) -> None:
    assert_safe(render_markdown(payload))
    assert_safe(render_partial(payload))
    for cut in (len(payload) // 3, len(payload) // 2, len(payload) - 1):  # half-streamed
        assert_safe(render_partial(payload[:cut]))


def test_raw_html_is_text() -> None:
    out = render_markdown("Hello <script>alert(1)</script> <b>bold</b>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;b&gt;bold&lt;/b&gt;" in out
    assert "<b>" not in out


def test_link_title_cannot_inject_attributes() -> None:
    out = render_markdown('[a](/x "t\\" onmouseover=alert(1) x=\\"")')
    assert_safe(out)
    assert 'href="/x"' in out
    assert "onmouseover" not in out.split('title="', 1)[0]


def test_latex_with_html_is_shown_as_text() -> None:
    out = render_markdown(r"$\text{<img src=x onerror=alert(1)>}$")
    assert "<mtext>&lt;img" in out
    assert "<img" not in out
    out = render_markdown(r"$\href{javascript:alert(1)}{click} \style{color:red}{y} \class{c}{z}$")
    assert_safe(out)
    assert "<mi>c</mi>" in out  # the content stays, the link and styles go
    assert "href" not in out
    assert "style" not in out


# --- reference rendering --------------------------------------------------------


def test_headings_emphasis_and_lists() -> None:
    out = render_markdown("# One\n\n## Two\n\n*em* **strong** ~~gone~~\n\n- a\n- b\n\n1. c\n")
    assert "<h1>One</h1>" in out
    assert "<h2>Two</h2>" in out
    assert "<em>em</em>" in out
    assert "<strong>strong</strong>" in out
    assert "<s>gone</s>" in out
    assert "<ul>" in out
    assert "<ol>" in out


def test_table_with_alignment() -> None:
    out = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n")
    assert "<table>" in out
    assert "<thead>" in out
    assert "<tbody>" in out
    assert '<th align="left">a</th>' in out
    assert '<td align="center">2</td>' in out
    assert '<td align="right">3</td>' in out
    assert "style" not in out


def test_code_block_keeps_language_and_escapes() -> None:
    out = render_markdown("```python\nif a < b and c > d:\n    print('<x>')\n```\n")
    assert '<pre><code class="language-python">' in out
    assert "a &lt; b" in out
    assert "print('&lt;x&gt;')" in out
    out = render_markdown('```py" onclick="alert(1)\nx\n```')
    assert_safe(out)
    assert "onclick" not in out


def test_inline_and_display_maths() -> None:
    inline = render_markdown(r"Energy $E = mc^2$ and \(x_i\).")
    assert inline.count("<math") == 2
    assert 'display="inline"' in inline
    assert "<msub>" in inline
    display = render_markdown("$$a^2 + b^2 = c^2$$")
    assert 'display="block"' in display
    assert "<msup>" in display
    assert display.count("<msup>") == 3
    block = render_markdown("$$\n\\frac{\\partial u}{\\partial t} = 0\n$$\n")
    assert 'display="block"' in block
    assert "<mfrac>" in block
    brackets = render_markdown("\\[\n\\sqrt{x}\n\\]\n")
    assert 'display="block"' in brackets
    assert "<msqrt>" in brackets


FORMULAS = [
    r"a^2 + b^2 = c^2",
    r"\frac{\partial u}{\partial t} + u \frac{\partial u}{\partial x} = -\frac{1}{\rho}",
    r"\sqrt[3]{x} + \sqrt{y}",
    r"\sum_{i=1}^{n} x_i^2 \int_0^\infty e^{-x}\,dx",
    r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}",
    r"\begin{cases} x & x > 0 \\ -x & \text{otherwise} \end{cases}",
    r"\begin{array}{c|c} a & b \\ \hline c & d \end{array}",
    r"\overbrace{a+b}^{n} \underbrace{c+d}_{m} \hat{a} \vec{v} \overline{x}",
    r"\left( \frac{a}{b} \right) \big( x \big) \binom{n}{k}",
    r"\boxed{E = mc^2} \cancel{x} \phantom{y} \quad \, \;",
    r"\mathbf{v} \cdot \nabla T \mathbb{R} \mathcal{L} \color{red}{x}",
    r"\displaystyle \lim_{x \to 0} \frac{\sin x}{x} \Huge y \LaTeX",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_sanitiser_keeps_every_mathml_element(formula: str) -> None:
    """The allow-list is exactly wide enough: nothing latex2mathml emits is lost."""
    produced = re.findall(r"<(m[a-z]+)", latex_to_mathml(formula, display="block"))
    assert set(produced) <= rendering.MATHML_TAGS
    out = render_markdown(f"$$\n{formula}\n$$\n")
    assert re.findall(r"<(m[a-z]+)", out) == produced
    assert_safe(out)


def test_module_allow_list_is_within_the_checkers() -> None:
    assert rendering.ALLOWED_TAGS <= SAFE_TAGS
    assert rendering.MATHML_TAGS == MATHML


# --- dollars, errors, images, links ----------------------------------------------


@pytest.mark.parametrize(
    "prose",
    [
        "it costs $5 and $10",
        "between $5 and $6.",
        "costs $5, or $10 with tax",
        "US$5 and US$10",
        "a $ sign and another $ sign",
    ],
)
def test_dollar_amounts_stay_prose(prose: str) -> None:
    out = render_markdown(prose)
    assert "<math" not in out
    assert "$" in out


def test_dollar_maths_next_to_amounts() -> None:
    out = render_markdown("It costs $5 and $10, while $a^2$ is maths.")
    assert "$5 and $10" in out
    assert out.count("<math") == 1
    assert "<msup>" in out


@pytest.mark.parametrize(
    "tex",
    [r"\left( x", r"\frac", r"\begin{matrix} a", r"\sqrt[", "}{", r"\left( <b>x</b>"],
)
def test_unparseable_maths_falls_back_to_source(tex: str) -> None:
    out = render_markdown(f"Formula: ${tex}$")
    if "<math" not in out:
        assert '<code class="math-error">' in out
        assert html.escape(tex, quote=False) in out
    assert_safe(out)


def test_math_error_is_escaped_tex_source() -> None:
    out = render_markdown(r"$\left( <b>x</b>$")
    assert r'<code class="math-error">\left( &lt;b&gt;x&lt;/b&gt;</code>' in out
    block = render_markdown("$$\n\\left( x\n$$\n")
    assert '<p><code class="math-error">\\left( x</code></p>' in block


def test_pathological_maths_does_not_raise() -> None:
    deep = "{" * 3000 + "x" + "}" * 3000
    for text in (f"${deep}$", "$" + "x^" * 3000 + "$", "$$\n" + "\\frac" * 500 + "\n$$"):
        assert_safe(render_markdown(text))


def test_server_images_survive_remote_images_are_dropped() -> None:
    out = render_markdown(
        "![map](/api/figures/abc123.png) ![logo](/static/logo.png) "
        "![pixel](https://evil.example/track.png) ![p2](//evil.example/t.png) "
        "![p3](http://evil.example/t.png) ![up](/uploads/x.png) ![dots](/api/../x.png)"
    )
    assert '<img src="/api/figures/abc123.png" alt="map">' in out
    assert '<img src="/static/logo.png" alt="logo">' in out
    assert "evil.example" not in out
    assert "/uploads/" not in out
    assert "/api/../" not in out
    assert out.count("<img") == 2
    assert "pixel" in out  # the alt text stays as text
    png = render_markdown("![dot](data:image/png;base64,iVBORw0KGgo=)")
    assert '<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">' in png
    svg = render_markdown("![s](data:image/svg+xml;base64,PHN2Zz4=)")
    assert "<img" not in svg


def test_links_get_rel_and_only_safe_schemes() -> None:
    out = render_markdown(
        "[web](https://dwd.de) [mail](mailto:a@b.example) [rel](/api/runs/1) "
        "[ftp](ftp://files.example/x) [js](javascript:alert(1))"
    )
    assert_safe(out)
    assert 'href="https://dwd.de"' in out
    assert 'href="mailto:a@b.example"' in out
    assert 'href="/api/runs/1"' in out
    assert "ftp://" not in out
    assert out.count('rel="noopener noreferrer nofollow"') == 4
    assert "target=" not in out


# --- streaming -------------------------------------------------------------------


def test_partial_closes_code_fence() -> None:
    text = "Here is code:\n\n```python\nx = 1\nif x < 2:"
    out = render_partial(text)
    assert '<pre><code class="language-python">x = 1\nif x &lt; 2:\n</code></pre>' in out
    assert "```" not in out
    assert close_open_blocks(text).endswith("\n```\n")


def test_partial_closes_fence_in_list_and_quote() -> None:
    out = render_partial("1. Install:\n\n   ```bash\n   pip install wxai")
    assert re.search(r'<li>.*<code class="language-bash">pip install wxai', out, re.S)
    assert out.index("</code>") < out.index("</li>")
    quoted = render_partial("> ```\n> quoted code")
    assert "<blockquote>\n<pre><code>quoted code" in quoted


def test_partial_closes_longer_and_tilde_fences() -> None:
    assert close_open_blocks("````md\n```\nstill code").endswith("\n````\n")
    assert close_open_blocks("~~~\n```\n").endswith("\n~~~\n")
    assert close_open_blocks("```\n$$\nx") == "```\n$$\nx\n```\n"  # no maths inside code


def test_partial_closes_display_maths() -> None:
    text = "The balance:\n\n$$\n\\frac{a}{b} = c"
    assert "<math" not in render_markdown(text)
    out = render_partial(text)
    assert 'display="block"' in out
    assert "<mfrac>" in out
    assert "$$" not in out
    half = render_partial("$$\n\\frac{a}{")  # not valid TeX yet: its source, no error
    assert "<math" in half or 'class="math-error"' in half
    assert "$$" not in half
    brackets = render_partial("\\[\n\\sqrt{2}")
    assert "<msqrt>" in brackets


def test_partial_leaves_complete_text_alone() -> None:
    complete = "# A\n\n```py\nx\n```\n\n$$a^2$$\n\n$$\nb\n$$\n\nend $x$"
    assert close_open_blocks(complete) == complete
    assert render_partial(complete) == render_markdown(complete)


SAMPLE = """# Forecast for Kiel

The wind speed is $|\\mathbf{v}| = \\sqrt{u^2 + v^2}$, so it costs $5 and $10 to fly.

| step | u | v |
|---:|---:|---:|
| +6 h | 3.1 | -2.0 |

```python
import numpy as np
speed = np.hypot(u, v)  # <b>not bold</b>
```

$$
\\frac{\\partial \\theta}{\\partial t} + \\mathbf{v} \\cdot \\nabla \\theta = 0
$$

> Note: see [the docs](https://wxai.example/docs) and ![map](/api/figures/kiel.png).
"""


def test_every_prefix_of_a_streamed_answer_renders_safely() -> None:
    for end in range(len(SAMPLE) + 1):
        assert_safe(render_partial(SAMPLE[:end]))


# --- speed -----------------------------------------------------------------------


def _best_cpu_ms(render: object, text: str, runs: int = 7) -> float:
    best = float("inf")
    for _ in range(runs):
        rendering._math.cache_clear()  # every formula converted again
        start = time.process_time()
        render(text)  # type: ignore[operator]
        best = min(best, time.process_time() - start)
    return best * 1000


def test_twenty_kilobytes_render_fast() -> None:
    """About 20 ms on an idle desktop, most of it markdown-it-py's own parsing."""
    text = ""
    while len(text) < 20_000:
        text += SAMPLE + f"\n\nParagraph {len(text)} with $x_{{{len(text)}}}^2$ maths.\n\n"
    plain = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    render_markdown(text)  # builds the parser
    ours = _best_cpu_ms(render_markdown, text)
    markdown_only = _best_cpu_ms(plain.render, text)
    # Absolute bound generous enough for a loaded CI runner; the relative bound says
    # maths and sanitising add little to the Markdown parsing itself.
    assert ours < 100, f"{ours:.1f} ms for {len(text)} characters"
    assert ours < 2.5 * markdown_only + 5, f"{ours:.1f} ms vs {markdown_only:.1f} ms"


def test_parser_is_built_once() -> None:
    assert rendering._markdown() is rendering._markdown()
