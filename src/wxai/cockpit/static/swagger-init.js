// Starts Swagger UI on /docs (a file, not an inline script, for the Content-Security-Policy).
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The browser's session cookie authenticates; state-changing calls need the CSRF token.
    requestInterceptor: (request) => {
      const token = sessionStorage.getItem("wxai-csrf");
      if (token) request.headers["X-CSRF-Token"] = token;
      return request;
    },
  });
});
