// wxai: what every signed-in page shares: the CSRF token on state-changing requests,
// JSON calls with readable errors, uploads with progress, logout, the figure lightbox.
// Plain JavaScript, no framework, no network access beyond this server.
"use strict";

(function () {
  const ROOT = document.body.dataset.root || "";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const CSRF = meta ? meta.content : "";
  if (CSRF) sessionStorage.setItem("wxai-csrf", CSRF); // for the API docs page

  function headers(extra) {
    return Object.assign({ "X-CSRF-Token": CSRF }, extra || {});
  }

  // fetch() with the CSRF header; non-2xx answers become an Error with the server's detail.
  async function request(method, path, body, options) {
    const init = Object.assign({ method, headers: headers() }, options || {});
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(ROOT + path, init);
    if (response.status === 401) {
      window.location.assign(ROOT + "/login?next=" + encodeURIComponent(location.pathname));
      throw new Error("signed out");
    }
    return response;
  }

  async function api(method, path, body) {
    const response = await request(method, path, body);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (err) {
      data = { detail: text };
    }
    if (!response.ok) {
      throw new Error((data && data.detail) || response.status + " " + response.statusText);
    }
    return data;
  }

  // POST a file as multipart form data, reporting progress (0-100) while it uploads.
  function upload(path, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", ROOT + path);
      xhr.setRequestHeader("X-CSRF-Token", CSRF);
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && onProgress) onProgress((100 * event.loaded) / event.total);
      });
      xhr.addEventListener("load", () => {
        let data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch (err) {
          data = { detail: xhr.responseText };
        }
        if (xhr.status >= 200 && xhr.status < 300) resolve(data);
        else reject(new Error((data && data.detail) || "upload failed: " + xhr.status));
      });
      xhr.addEventListener("error", () => reject(new Error("the upload was interrupted")));
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  }

  // An element with text content (never HTML) and attributes.
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function when(iso) {
    if (!iso) return "-";
    const date = new Date(iso);
    return date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " kB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function openLightbox(url) {
    const box = document.getElementById("lightbox");
    if (!box) return;
    box.querySelector("img").src = url;
    box.showModal();
  }

  const lightbox = document.getElementById("lightbox");
  if (lightbox) lightbox.addEventListener("click", () => lightbox.close());

  const logout = document.querySelector('[data-testid="logout"]');
  if (logout) {
    logout.addEventListener("click", async () => {
      await fetch(ROOT + "/logout", { method: "POST", headers: headers() });
      sessionStorage.removeItem("wxai-csrf");
      window.location.assign(ROOT + "/login");
    });
  }

  window.wx = { ROOT, CSRF, request, api, upload, el, when, size, openLightbox };
})();
