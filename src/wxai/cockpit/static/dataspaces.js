// wxai dataspaces page: list and create dataspaces, upload (on file selection, with
// progress), download and delete files, search a dataspace, share it with groups/users.
// Plain JavaScript, no framework; server text goes into the page as text only.
"use strict";

(function () {
  const wx = window.wx;
  const $ = (id) => document.querySelector('[data-testid="' + id + '"]');
  const list = $("dataspace-list");
  const titleEl = $("dataspace-title");
  const meta = $("dataspace-meta");
  const files = $("file-rows");
  const members = $("member-rows");
  const uploadForm = $("upload-form");
  const uploadInput = $("dataspace-upload");
  const progress = $("dataspace-progress");
  const uploadStatus = $("dataspace-upload-status");
  const memberForm = $("member-form");
  const deleteButton = $("delete-dataspace");
  const hits = $("search-hits");
  let current = null;

  const canWrite = (space) => space && ["owner", "editor"].includes(space.role);
  const canManage = (space) => space && (space.role === "owner" || space.role === "admin");

  async function loadGroups() {
    const me = await wx.api("GET", "/api/me");
    const select = $("new-dataspace-group");
    for (const group of me.groups) {
      select.appendChild(wx.el("option", { value: group }, "shared with group " + group));
    }
  }

  async function loadList(selectId) {
    const spaces = await wx.api("GET", "/api/dataspaces");
    list.textContent = "";
    for (const space of spaces) {
      const item = wx.el("li", { "data-space": space.id });
      const button = wx.el("button", { type: "button", class: "session-link" });
      button.appendChild(wx.el("span", { class: "session-name" }, space.name));
      button.appendChild(wx.el("span", { class: "session-when" }, space.kind + " · " + space.role));
      button.addEventListener("click", () => open(space.id));
      item.appendChild(button);
      list.appendChild(item);
    }
    const wanted = selectId || new URL(location.href).searchParams.get("space") || (spaces[0] || {}).id;
    if (wanted) open(wanted);
  }

  async function open(id) {
    let space;
    try {
      space = await wx.api("GET", "/api/dataspaces/" + encodeURIComponent(id));
    } catch (err) {
      titleEl.textContent = "Dataspace not found";
      return;
    }
    current = space;
    const url = new URL(location.href);
    url.searchParams.set("space", id);
    history.replaceState(null, "", url);
    for (const item of list.querySelectorAll("li")) {
      item.classList.toggle("active", item.dataset.space === id);
    }
    titleEl.textContent = space.name;
    meta.textContent = space.kind + " dataspace · your role: " + space.role;
    uploadForm.hidden = !canWrite(space);
    memberForm.hidden = !canManage(space) || space.kind === "private";
    deleteButton.hidden = !canManage(space) || space.kind === "private";
    hits.textContent = "";
    showMembers(space);
    await loadFiles();
  }

  function showMembers(space) {
    members.textContent = "";
    for (const member of space.members) {
      const row = wx.el("tr");
      row.appendChild(wx.el("td", {}, member.name));
      row.appendChild(wx.el("td", {}, member.kind));
      row.appendChild(wx.el("td", {}, member.role));
      const cell = wx.el("td");
      if (canManage(space) && space.kind !== "private") {
        const remove = wx.el("button", { type: "button", class: "link danger" }, "remove");
        remove.addEventListener("click", async () => {
          try {
            await wx.api("DELETE", "/api/dataspaces/" + space.id + "/members/" +
              member.kind + "/" + encodeURIComponent(member.name));
            open(space.id);
          } catch (err) {
            alert(err.message);
          }
        });
        cell.appendChild(remove);
      }
      row.appendChild(cell);
      members.appendChild(row);
    }
  }

  // While a task worker has files to index (index_status "queued"), look again every 3 s.
  let indexPoll = null;

  async function loadFiles() {
    const rows = await wx.api("GET", "/api/dataspaces/" + current.id + "/files");
    files.textContent = "";
    clearTimeout(indexPoll);
    if (rows.some((file) => file.index_status === "queued")) {
      const shown = current.id;
      indexPoll = setTimeout(() => { if (current && current.id === shown) loadFiles(); }, 3000);
    }
    if (!rows.length) {
      const row = wx.el("tr", { class: "placeholder" });
      const cell = wx.el("td", {}, "No files yet.");
      cell.colSpan = 5;
      row.appendChild(cell);
      files.appendChild(row);
    }
    for (const file of rows) {
      const row = wx.el("tr", { "data-file": file.name });
      const name = wx.el("td");
      name.appendChild(wx.el("a", { href: file.url, download: file.name }, file.name));
      if (file.summary && file.summary.variables) {
        const vars = Object.keys(file.summary.variables).join(", ");
        name.appendChild(wx.el("div", { class: "muted" }, vars));
      }
      row.appendChild(name);
      const type = wx.el("td", {}, file.kind + " · " + file.media_type);
      if (file.index_status === "queued" || file.index_status === "failed") {
        const note = file.index_status === "queued" ? "queued for indexing" : "indexing failed";
        type.appendChild(wx.el("div", { class: "muted", "data-index": file.index_status }, note));
      }
      row.appendChild(type);
      row.appendChild(wx.el("td", {}, wx.size(file.size)));
      row.appendChild(wx.el("td", {}, wx.when(file.created_at)));
      const cell = wx.el("td");
      if (canWrite(current)) {
        const remove = wx.el("button", { type: "button", class: "link danger" }, "delete");
        remove.addEventListener("click", async () => {
          if (!confirm("Delete " + file.name + "?")) return;
          await wx.api("DELETE", "/api/dataspaces/" + current.id + "/files/" + file.id);
          loadFiles();
        });
        cell.appendChild(remove);
      }
      row.appendChild(cell);
      files.appendChild(row);
    }
  }

  uploadInput.addEventListener("change", async () => {
    const chosen = uploadInput.files[0];
    if (!chosen || !current) return;
    progress.hidden = false;
    progress.value = 0;
    uploadStatus.textContent = "uploading " + chosen.name + " ...";
    uploadStatus.dataset.state = "";
    try {
      const stored = await wx.upload("/api/dataspaces/" + current.id + "/files", chosen, (p) => {
        progress.value = p;
        if (p >= 100) uploadStatus.textContent = "indexing " + chosen.name + " ...";
      });
      uploadStatus.textContent = stored.status + ": " + stored.file.name +
        (stored.file.index_status === "queued" ? " (queued for indexing)" : "");
      uploadStatus.dataset.state = "ok";
      loadFiles();
    } catch (err) {
      uploadStatus.textContent = "upload failed: " + err.message;
      uploadStatus.dataset.state = "error";
    } finally {
      progress.hidden = true;
      uploadInput.value = "";
    }
  });

  $("dataspace-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    try {
      const space = await wx.api("POST", "/api/dataspaces", {
        name: form.elements.name.value,
        group: form.elements.group.value || null,
      });
      form.reset();
      loadList(space.id);
    } catch (err) {
      alert(err.message);
    }
  });

  memberForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = { role: form.elements.role.value };
    body[form.elements.kind.value] = form.elements.name.value;
    try {
      await wx.api("PUT", "/api/dataspaces/" + current.id + "/members", body);
      form.reset();
      open(current.id);
    } catch (err) {
      alert(err.message);
    }
  });

  deleteButton.addEventListener("click", async () => {
    if (!current || !confirm("Delete the dataspace " + current.name + " and all its files?")) return;
    await wx.api("DELETE", "/api/dataspaces/" + current.id);
    const url = new URL(location.href);
    url.searchParams.delete("space");
    history.replaceState(null, "", url);
    loadList();
  });

  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return; // no dataspace is open yet (or the one asked for was not found)
    const q = event.currentTarget.elements.q.value;
    hits.textContent = "";
    const found = await wx.api(
      "GET",
      "/api/dataspaces/" + current.id + "/search?q=" + encodeURIComponent(q),
    );
    if (!found.length) hits.appendChild(wx.el("li", { class: "muted" }, "Nothing found."));
    for (const hit of found) {
      const item = wx.el("li", { "data-testid": "search-hit" });
      const source = hit.source + (hit.page ? ", p. " + hit.page : "");
      item.appendChild(wx.el("a", { href: hit.url }, source));
      item.appendChild(wx.el("span", { class: "muted" }, " score " + hit.score.toFixed(3)));
      item.appendChild(wx.el("p", { class: "hit-text" }, hit.text));
      hits.appendChild(item);
    }
  });

  loadGroups();
  loadList();
})();
