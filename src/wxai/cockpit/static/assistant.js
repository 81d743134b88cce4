// wxai assistant page: sessions, a chat whose answers stream in as typed parts
// (text, tool calls and results with figures, citations, errors), and uploads into
// the user's private dataspace. Answer HTML is rendered and sanitised on the server;
// everything else is put into the page as text. Plain JavaScript, no framework.
"use strict";

(function () {
  const wx = window.wx;
  const $ = (id) => document.querySelector('[data-testid="' + id + '"]');
  const list = $("session-list");
  const messages = $("messages");
  const welcome = $("welcome");
  const form = $("composer");
  const prompt = $("prompt");
  const send = $("send");
  const stop = $("stop");
  const modelSelect = $("model-select");
  const title = $("session-title");
  const sessionId = $("session-id");
  const contextNote = $("context-note");
  const renameButton = $("rename-session");
  const deleteButton = $("delete-session");
  const search = $("session-search");
  const uploadInput = $("chat-upload");
  const uploadProgress = $("upload-progress");
  const uploadStatus = $("upload-status");

  let current = null; // the open session {id, title, model}
  let controller = null; // aborts the running stream
  let running = null; // {session, message} of the answer being written: Stop cancels it

  // -- models and sessions ------------------------------------------------------------

  async function loadModels() {
    let models = [];
    try {
      models = await wx.api("GET", "/api/llm/models");
    } catch (err) {
      return;
    }
    modelSelect.textContent = "";
    for (const model of models) {
      const option = wx.el("option", { value: model.alias }, model.alias + " (" + model.tier + ")");
      option.disabled = !model.available;
      if (!model.available) option.textContent += " - not available";
      if (model.default) option.selected = true;
      modelSelect.appendChild(option);
    }
  }

  async function loadSessions() {
    const q = search.value.trim();
    const sessions = await wx.api("GET", "/api/sessions" + (q ? "?q=" + encodeURIComponent(q) : ""));
    list.textContent = "";
    if (!sessions.length) {
      list.appendChild(wx.el("li", { class: "empty" }, q ? "No session matches." : "No sessions yet."));
    }
    for (const session of sessions) {
      const item = wx.el("li", { "data-session": session.id });
      const link = wx.el("button", { type: "button", class: "session-link" });
      link.appendChild(wx.el("span", { class: "session-name" }, session.title || "Untitled"));
      link.appendChild(wx.el("span", { class: "session-when" }, wx.when(session.updated_at)));
      link.addEventListener("click", () => openSession(session.id));
      if (current && current.id === session.id) item.classList.add("active");
      item.appendChild(link);
      list.appendChild(item);
    }
  }

  function showSession(session) {
    current = session;
    title.textContent = session ? session.title || "Untitled" : "New session";
    sessionId.textContent = session ? session.id : "-";
    renameButton.disabled = deleteButton.disabled = !session;
    if (session && session.model) {
      const known = Array.from(modelSelect.options).some((o) => o.value === session.model);
      if (known) modelSelect.value = session.model;
    }
    const url = new URL(window.location.href);
    if (session) url.searchParams.set("session", session.id);
    else url.searchParams.delete("session");
    history.replaceState(null, "", url);
    for (const item of list.querySelectorAll("li[data-session]")) {
      item.classList.toggle("active", !!session && item.dataset.session === session.id);
    }
  }

  async function openSession(id) {
    if (controller) controller.abort();
    let session;
    let history;
    try {
      session = await wx.api("GET", "/api/sessions/" + encodeURIComponent(id));
      history = await wx.api("GET", "/api/sessions/" + encodeURIComponent(id) + "/messages");
    } catch (err) {
      showSession(null);
      clearMessages();
      showError(messages, "This session cannot be opened: " + err.message);
      return;
    }
    showSession(session);
    clearMessages();
    contextNote.hidden = true;
    for (const message of history) {
      if (message.role === "user") addUserMessage(message.text);
      else renderStoredAnswer(message);
    }
    messages.scrollTop = messages.scrollHeight;
  }

  function newSession() {
    if (controller) controller.abort();
    showSession(null);
    clearMessages();
    messages.appendChild(welcome);
    welcome.hidden = false;
    contextNote.hidden = true;
    prompt.focus();
  }

  function clearMessages() {
    messages.textContent = "";
  }

  // -- rendering of messages and parts ---------------------------------------------------

  function addUserMessage(text) {
    welcome.hidden = true;
    const box = wx.el("article", { class: "msg user", "data-testid": "user-message" });
    box.appendChild(wx.el("div", { class: "who" }, "You asked:"));
    box.appendChild(wx.el("div", { class: "body" }, text));
    messages.appendChild(box);
    return box;
  }

  // One assistant answer: tool sections, then the model's text, citations and errors.
  function answerBox(model) {
    const box = wx.el("article", { class: "msg assistant", "data-testid": "assistant-message" });
    box.appendChild(wx.el("div", { class: "who" }, "DAWID:"));
    const tools = wx.el("div", { class: "tool-parts" });
    const modelPart = wx.el("details", { class: "part model", open: true });
    const summary = wx.el("summary", {}, "Model");
    const alias = wx.el("span", { class: "alias", "data-testid": "answer-model" }, model || "");
    summary.appendChild(alias);
    modelPart.appendChild(summary);
    const text = wx.el("div", { class: "answer-html", "data-testid": "answer-text" });
    modelPart.appendChild(text);
    const citations = wx.el("ol", { class: "citations", "data-testid": "citations" });
    citations.hidden = true;
    box.appendChild(tools);
    box.appendChild(modelPart);
    box.appendChild(citations);
    messages.appendChild(box);
    return { box, tools, text, citations, alias, calls: new Map() };
  }

  function toolSection(answer, part) {
    let section = answer.calls.get(part.id);
    if (section) return section;
    section = wx.el("details", { class: "part tool", "data-testid": "tool-" + part.name });
    const summary = wx.el("summary", {}, "Function " + part.name);
    const state = wx.el("span", { class: "tool-state" }, "running");
    summary.appendChild(state);
    section.appendChild(summary);
    if (part.arguments && Object.keys(part.arguments).length) {
      const args = wx.el("pre", { class: "tool-args" }, JSON.stringify(part.arguments, null, 2));
      section.appendChild(args);
    }
    answer.tools.appendChild(section);
    answer.calls.set(part.id, section);
    return section;
  }

  function showToolResult(answer, part) {
    const section = toolSection(answer, part);
    section.querySelector("summary").firstChild.textContent = "Function " + part.name + " results";
    const state = section.querySelector(".tool-state");
    state.textContent = part.ok === false ? "failed" : "done";
    state.classList.toggle("failed", part.ok === false);
    if (part.html) {
      const body = wx.el("div", { class: "tool-html" });
      body.innerHTML = part.html; // sanitised server-side (wxai.cockpit.rendering)
      section.appendChild(body);
    }
    if (part.summary && Object.keys(part.summary).length) {
      const details = wx.el("details", { class: "raw" });
      details.appendChild(wx.el("summary", {}, "result data"));
      details.appendChild(wx.el("pre", {}, JSON.stringify(part.summary, null, 2)));
      section.appendChild(details);
    }
    for (const url of part.figures || []) {
      const link = wx.el("a", { href: url, class: "figure-link" });
      const img = wx.el("img", { src: url, alt: part.name + " figure", loading: "lazy" });
      img.setAttribute("data-testid", "answer-figure");
      link.appendChild(img);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        wx.openLightbox(url);
      });
      section.appendChild(link);
    }
  }

  function showCitations(answer, items) {
    answer.citations.textContent = "";
    for (const item of items || []) {
      const li = wx.el("li");
      const label = item.source + (item.page ? ", p. " + item.page : "");
      if (item.url) li.appendChild(wx.el("a", { href: item.url }, label));
      else li.appendChild(wx.el("span", {}, label));
      if (item.dataspace) li.appendChild(wx.el("span", { class: "muted" }, " in " + item.dataspace));
      answer.citations.appendChild(li);
    }
    answer.citations.hidden = !answer.citations.children.length;
  }

  function showError(container, message) {
    const box = wx.el("p", { class: "error", role: "alert", "data-testid": "answer-error" }, message);
    container.appendChild(box);
  }

  function applyPart(answer, part) {
    switch (part.type) {
      case "session":
        showSession({ id: part.id, title: part.title, model: part.model });
        if (part.message_id) running = { session: part.id, message: part.message_id };
        break;
      case "text":
        if (part.html !== undefined) answer.text.innerHTML = part.html; // sanitised server-side
        else answer.text.textContent += part.delta || "";
        break;
      case "tool_call":
        toolSection(answer, part);
        break;
      case "tool_result":
        showToolResult(answer, part);
        break;
      case "citations":
        showCitations(answer, part.items);
        break;
      case "model":
        answer.alias.textContent = part.name || part.model || "";
        break;
      case "error":
        showError(answer.box, part.message);
        break;
      case "done":
        if (part.context && part.context.dropped_turns) {
          contextNote.hidden = false;
          contextNote.textContent =
            part.context.dropped_turns +
            " older turn(s) no longer fit the model's context and were left out of this answer.";
        }
        break;
      default:
        break;
    }
  }

  function renderStoredAnswer(message) {
    const answer = answerBox(message.model);
    for (const part of message.parts || []) {
      if (part.type !== "text" && part.type !== "done") applyPart(answer, part);
    }
    answer.text.innerHTML = message.html || ""; // sanitised server-side
    if (message.status === "streaming") followStoredAnswer(answer, message);
  }

  // An answer still being written (by this or another server process): poll until final.
  async function followStoredAnswer(answer, message) {
    const url =
      "/api/sessions/" + encodeURIComponent(message.session_id || (current && current.id)) +
      "/messages/" + encodeURIComponent(message.id);
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = "still being written ...";
    answer.box.appendChild(note);
    for (let latest = message; latest.status === "streaming"; ) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (!answer.box.isConnected) return;
      try {
        latest = await wx.api("GET", url);
      } catch (err) {
        break;
      }
      answer.text.innerHTML = latest.html || ""; // sanitised server-side
      if (latest.status !== "streaming" && latest.status !== "complete") {
        const last = (latest.parts || []).filter((p) => p.type === "error").pop();
        showError(answer.box, last ? last.message : latest.status);
      }
    }
    note.remove();
  }

  // -- sending a message and reading the stream -----------------------------------------

  // Split a server-sent-events buffer into complete events; returns [events, rest].
  function parseEvents(buffer) {
    const events = [];
    let index;
    while ((index = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) {
        try {
          events.push(JSON.parse(data));
        } catch (err) {
          events.push({ type: "error", message: "unreadable part from the server" });
        }
      }
    }
    return [events, buffer];
  }

  function setBusy(busy) {
    send.disabled = busy;
    stop.hidden = !busy;
    prompt.readOnly = busy;
  }

  async function ensureSession(text) {
    if (current) return current;
    const session = await wx.api("POST", "/api/sessions", {
      title: text.slice(0, 80),
      model: modelSelect.value || null,
    });
    showSession(session);
    loadSessions();
    return session;
  }

  async function ask(text) {
    setBusy(true);
    let answer = null;
    try {
      const session = await ensureSession(text);
      addUserMessage(text);
      answer = answerBox(modelSelect.value);
      messages.scrollTop = messages.scrollHeight;
      controller = new AbortController();
      const response = await wx.request(
        "POST",
        "/api/sessions/" + encodeURIComponent(session.id) + "/messages",
        { text, model: modelSelect.value || null },
        { signal: controller.signal },
      );
      if (!response.ok) {
        let detail = response.status + " " + response.statusText;
        try {
          detail = (await response.json()).detail || detail;
        } catch (err) {
          /* keep the status line */
        }
        throw new Error(detail);
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let events;
        [events, buffer] = parseEvents(buffer + decoder.decode(value, { stream: true }));
        for (const part of events) applyPart(answer, part);
        messages.scrollTop = messages.scrollHeight;
      }
    } catch (err) {
      if (err.name !== "AbortError") showError(answer ? answer.box : messages, err.message);
      else if (answer) showError(answer.box, "stopped");
    } finally {
      controller = null;
      running = null;
      setBusy(false);
      loadSessions();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = prompt.value.trim();
    if (!text || controller) return;
    prompt.value = "";
    if (uploadStatus.dataset.state === "ok") uploadStatus.textContent = ""; // hint done
    ask(text);
  });
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener("click", () => {
    if (!running) return controller && controller.abort();
    // the server stops the answer (on whichever process writes it); the stream then ends
    const url =
      "/api/sessions/" + encodeURIComponent(running.session) +
      "/messages/" + encodeURIComponent(running.message) + "/cancel";
    wx.api("POST", url).catch(() => controller && controller.abort());
  });
  for (const example of document.querySelectorAll(".example")) {
    example.addEventListener("click", () => {
      prompt.value = example.textContent;
      form.requestSubmit();
    });
  }
  $("new-session").addEventListener("click", newSession);
  renameButton.addEventListener("click", async () => {
    if (!current) return;
    const name = window.prompt("New name of this session", current.title || "");
    if (!name) return;
    const session = await wx.api("PATCH", "/api/sessions/" + current.id, { title: name });
    showSession(session);
    loadSessions();
  });
  deleteButton.addEventListener("click", async () => {
    if (!current || !window.confirm("Delete this session and its messages?")) return;
    await wx.api("DELETE", "/api/sessions/" + current.id);
    newSession();
    loadSessions();
  });
  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadSessions, 250);
  });

  // -- uploads: chosen file goes straight into the private dataspace -------------------

  // A picture, radar composite or cloud-top height file: the chat reads it as an image.
  function isPicture(file) {
    const summary = file.summary || {};
    if (file.kind === "image" || summary.format === "odim") return true;
    return summary.format === "netcdf" && "CTH" in (summary.variables || {});
  }

  uploadInput.addEventListener("change", async () => {
    const chosen = uploadInput.files[0];
    if (!chosen) return;
    uploadStatus.textContent = "uploading " + chosen.name + " ...";
    uploadProgress.hidden = false;
    uploadProgress.value = 0;
    try {
      const spaces = await wx.api("GET", "/api/dataspaces");
      const own = spaces.find((space) => space.kind === "private");
      if (!own) throw new Error("no private dataspace");
      const stored = await wx.upload(
        "/api/dataspaces/" + own.id + "/files",
        chosen,
        (percent) => (uploadProgress.value = percent),
      );
      const file = stored.file;
      const picture = isPicture(file);
      let what = file.kind === "data" ? " (data file: ask for values or a map)" : "";
      if (picture) what = " (press Enter to have it read, or ask your own question about it)";
      uploadStatus.textContent = stored.status + " " + file.name + " in " + own.name + what;
      uploadStatus.dataset.state = "ok";
      prompt.placeholder = "Ask about " + file.name + " ...";
      if (picture) {
        // the question names the file: the chat's rule reads it and shows it inline
        const asked = prompt.value.trim();
        prompt.value = asked ? asked + " (" + file.name + ")" : "Describe " + file.name;
        prompt.focus();
      }
    } catch (err) {
      uploadStatus.textContent = "upload failed: " + err.message;
      uploadStatus.dataset.state = "error";
    } finally {
      uploadProgress.hidden = true;
      uploadInput.value = "";
    }
  });

  // -- speech input: record, transcribe, put the text into the box to check ------------

  const micButton = $("mic");
  const micLanguage = $("mic-language");
  const micStatus = $("mic-status");
  let recorder = null;

  function micSay(text, state) {
    micStatus.textContent = text;
    if (state) micStatus.dataset.state = state;
    else delete micStatus.dataset.state;
  }

  function micIdle() {
    recorder = null;
    micButton.textContent = "Speak";
    micButton.setAttribute("aria-pressed", "false");
    micButton.disabled = false;
  }

  async function transcribe(blob) {
    micSay("transcribing ...");
    micButton.disabled = true;
    const type = (blob.type || "audio/webm").split(";")[0];
    const suffix = type.includes("ogg") ? ".ogg" : type.includes("mp4") ? ".m4a" : ".webm";
    const form = new FormData();
    form.append("file", blob, "speech" + suffix);
    form.append("language", micLanguage.value);
    try {
      const response = await wx.request("POST", "/api/audio/transcriptions", undefined, {
        body: form,
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.detail || "transcription failed: " + response.status);
      const before = prompt.value.trim();
      prompt.value = before ? before + " " + data.text : data.text;
      prompt.focus();
      const language = data.language === "de" ? "German" : "English";
      micSay("recognised (" + language + ") - check the text, then send", "ok");
    } catch (err) {
      micSay(err.message, "error");
    } finally {
      micIdle();
    }
  }

  async function startRecording() {
    let stream;
    try {
      // The recogniser wants the voice as spoken: the browser's call-audio
      // processing (noise suppression, gain control) smears words for Whisper.
      stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          channelCount: 1,
          echoCancellation: false,
          noiseSuppression: false,
          autoGainControl: false,
        },
      });
    } catch (err) {
      micSay("no microphone: " + err.message, "error");
      return;
    }
    const chunks = [];
    recorder = new MediaRecorder(stream, { audioBitsPerSecond: 96000 });
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size) chunks.push(event.data);
    });
    recorder.addEventListener("stop", () => {
      stream.getTracks().forEach((track) => track.stop());
      const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
      if (!blob.size) {
        micSay("nothing was recorded; try again", "error");
        micIdle();
        return;
      }
      transcribe(blob);
    });
    recorder.start();
    micButton.textContent = "Stop recording";
    micButton.setAttribute("aria-pressed", "true");
    micSay("recording ... click Stop recording when you are done");
  }

  // Whisper base often takes German for English: a German browser starts on "Deutsch".
  if ((navigator.language || "").toLowerCase().startsWith("de")) micLanguage.value = "de";
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    micButton.disabled = true;
    micSay("this browser cannot record audio (it needs HTTPS or localhost)");
  }
  micButton.addEventListener("click", () => {
    if (recorder && recorder.state === "recording") recorder.stop();
    else startRecording();
  });

  loadModels().then(() => {
    const wanted = new URL(window.location.href).searchParams.get("session");
    if (wanted) openSession(wanted);
  });
  loadSessions();
})();
