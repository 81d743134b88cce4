"""Answers of a scripted model in a real Chromium: maths as MathML, and hostile text that
stays text (in the user's messages, in the model's answers, in documents).

The model is a fake Ollama server in a thread (``/api/tags``, ``/api/chat`` plain and
streamed as NDJSON), as Open WebUI's tests script their providers: the answers are fixed,
so the test can assert what the page makes of them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from e2e_pages import ask, new_page, screenshot, sign_in

from conftest import CockpitServer, _new_home

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).parents[1] / "cockpit" / "xss_corpus.txt"
ALIAS = "ollama-core"  # an Ollama alias of configs/models.yaml with native tool calls
MATH_ANSWER = (
    "By the Pythagorean theorem, for a right triangle with legs $a$, $b$ and hypotenuse $c$:"
    "\n\n$$a^2 + b^2 = c^2$$\n\nFor example $x = 5$ when the legs are 3 and 4."
)
DOC_MARK = "Zanzibarquell"  # the word that finds the hostile document
HOSTILE_CHECK = """() => {
  const box = document.querySelector('[data-testid="messages"]');
  const bad = [];
  for (const node of box.querySelectorAll("*")) {
    const tag = node.tagName.toLowerCase();
    if (["script", "iframe", "object", "embed", "base", "meta", "link", "style"].includes(tag))
      bad.push(tag);
    for (const attr of node.attributes) {
      if (attr.name.toLowerCase().startsWith("on")) bad.push(tag + "[" + attr.name + "]");
      if (/^\\s*javascript:/i.test(attr.value)) bad.push(tag + "[" + attr.name + "=js]");
    }
  }
  return bad;
}"""


def load_payloads() -> list[str]:
    """The corpus of tests/cockpit (one payload a line, "␤" a line break, ";;" comments)."""
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line.replace("␤", "\n") for line in lines if line.strip() and not line.startswith(";;")]


def chosen_payloads() -> list[str]:
    """A dozen varied payloads; half set ``window.__xss`` instead of calling alert()."""
    payloads = load_payloads()
    picked = [p for p in payloads if "<" in p][:6]
    picked += [p for p in payloads if "math" in p.lower() and p not in picked][:2]
    picked += [p for p in payloads if "\n" in p and p not in picked][:2]
    picked += [p for p in payloads if "javascript:" in p and p not in picked][:2]
    adapted = [
        p.replace("alert(1)", "window.__xss=1") if i % 2 else p for i, p in enumerate(picked)
    ]
    assert len(adapted) >= 10
    return adapted


class FakeOllama(ThreadingHTTPServer):
    """An Ollama that answers from a script: maths, echoes, or a document search."""

    daemon_threads = True
    models = ("qwen2.5:7b", "llama3.2:3b")

    def answer(self, text: str) -> dict[str, Any]:
        """The assistant message for the last user message ``text``."""
        if "pythagor" in text.lower():
            return {"role": "assistant", "content": MATH_ANSWER}
        if DOC_MARK in text:
            call = {"function": {"name": "search_dataspaces", "arguments": {"query": DOC_MARK}}}
            return {"role": "assistant", "content": "", "tool_calls": [call]}
        if text.startswith("Repeat the samples"):
            return {"role": "assistant", "content": "\n\n".join(chosen_payloads())}
        return {"role": "assistant", "content": f"You wrote:\n\n{text}"}


class _Handler(BaseHTTPRequestHandler):
    server: FakeOllama

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/api/tags":
            self._json({"models": [{"name": name, "model": name} for name in self.server.models]})
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        if self.path != "/api/chat":
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        users = [m for m in body["messages"] if m.get("role") == "user"]
        message = self.server.answer(users[-1]["content"] if users else "")
        model = body.get("model", "")
        if not body.get("stream"):
            self._json({"model": model, "message": message, "done": True, "done_reason": "stop"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        content = message["content"]
        for start in range(0, len(content), 16):  # several pieces, like a real stream
            piece = {"role": "assistant", "content": content[start : start + 16]}
            line = {"model": model, "message": piece, "done": False}
            self.wfile.write(json.dumps(line).encode() + b"\n")
            self.wfile.flush()
        last = {"model": model, "message": {"role": "assistant", "content": ""}}
        self.wfile.write(json.dumps({**last, "done": True, "done_reason": "stop"}).encode() + b"\n")


@pytest.fixture(scope="module")
def fake_ollama() -> Iterator[FakeOllama]:
    """The scripted Ollama on a free local port."""
    fake = FakeOllama(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    fake_ollama: FakeOllama,
) -> Iterator[CockpitServer]:
    """A cockpit whose Ollama aliases talk to the fake."""
    base = tmp_path_factory.mktemp("fake-model")
    env = {"WXAI_OLLAMA_URL": f"http://127.0.0.1:{fake_ollama.server_address[1]}"}
    cockpit = CockpitServer(_new_home(base, request), base / "server.log", env).start()
    yield cockpit
    cockpit.stop()


def signed_in_page(browser: Any, server: CockpitServer) -> tuple[Any, Any]:
    from playwright.sync_api import expect

    page, watch = new_page(browser)
    sign_in(page, server.login_link("admin"))
    expect(page.locator(f'[data-testid="model-select"] option[value="{ALIAS}"]')).to_be_enabled()
    page.get_by_test_id("model-select").select_option(ALIAS)
    return page, watch


def test_a_maths_answer_is_shown_as_mathml(browser, server, tmp_path):
    from playwright.sync_api import expect

    page, watch = signed_in_page(browser, server)
    answer = ask(page, "Explain the Pythagorean theorem with a formula")
    expect(answer.get_by_test_id("answer-model")).to_have_text(ALIAS)
    text = answer.get_by_test_id("answer-text")
    expect(text.locator("math").first).to_be_visible()
    assert text.locator("math").count() >= 3  # a display formula and inline $a$, $b$, $x$...
    expect(text.locator("msup").first).to_be_attached()
    assert "$$" not in text.inner_text()
    box = text.locator("math:has(msup)").first.bounding_box()  # the displayed formula
    assert box and box["width"] > 20 and box["height"] > 5  # laid out, not collapsed
    screenshot(page, tmp_path, "20_assistant_mathml")
    watch.assert_clean()
    page.context.close()


def test_hostile_text_stays_text_everywhere(browser, server, tmp_path):
    from playwright.sync_api import expect

    payloads = chosen_payloads()
    page, watch = signed_in_page(browser, server)
    page.get_by_test_id("new-session").click()
    for payload in payloads:  # as the user's messages; the fake echoes each one back
        ask(page, payload)
    users = page.get_by_test_id("user-message").locator(".body").all_inner_texts()
    assert [" ".join(u.split()) for u in users] == [" ".join(p.split()) for p in payloads]
    ask(page, "Repeat the samples, please")  # all of them at once, as one model answer

    document = tmp_path / "hostile-notes.md"
    lines = [f"{DOC_MARK} sample {i}: {p}" for i, p in enumerate(payloads)]
    document.write_text("# Hostile notes\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
    page.get_by_test_id("chat-upload").set_input_files(str(document))
    expect(page.get_by_test_id("upload-status")).to_contain_text(
        "added hostile-notes.md", timeout=60_000
    )
    found = ask(page, f"Search my documents for {DOC_MARK}")  # the fake calls the search tool
    tool = found.get_by_test_id("tool-search_dataspaces")
    expect(tool.locator(".tool-state")).to_have_text("done")
    tool.locator("summary").first.click()
    expect(found.get_by_test_id("citations")).to_contain_text("hostile-notes.md")
    page.wait_for_timeout(500)  # time for anything that would fire (onerror, autofocus)
    assert page.evaluate(HOSTILE_CHECK) == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    screenshot(page, tmp_path, "21_assistant_xss_chat")

    page.reload()  # the stored history is rendered again, from the server's copy
    expect(page.get_by_test_id("user-message")).to_have_count(len(payloads) + 2)
    page.wait_for_timeout(500)
    assert page.evaluate(HOSTILE_CHECK) == []

    page.get_by_test_id("nav-dataspaces").click()  # the document's text in search results
    expect(page.locator('tr[data-file="hostile-notes.md"]')).to_be_visible()
    page.get_by_test_id("dataspace-search").fill(DOC_MARK)
    page.get_by_test_id("dataspace-search").press("Enter")
    expect(page.get_by_test_id("search-hit").first).to_contain_text(DOC_MARK)
    page.wait_for_timeout(500)
    hits_bad = page.evaluate(HOSTILE_CHECK.replace('[data-testid="messages"]', ".hits"))
    assert hits_bad == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    screenshot(page, tmp_path, "22_dataspace_xss_search")
    watch.assert_clean()  # no alert() fired, no page error, no CSP report
    page.context.close()
