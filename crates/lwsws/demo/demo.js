/* lws-rs demo page script. Loaded with `defer` from <head>; no inline script or handlers (strict CSP). */
"use strict";

(function () {
  var MAX_UPLOAD = 100000;

  function $(id) {
    return document.getElementById(id);
  }

  /* "http/1.1" / "h2" from Navigation Timing; older engines may not expose it. */
  function pageProtocol() {
    var nav = window.performance && performance.getEntriesByType ?
      performance.getEntriesByType("navigation") : [];
    var p = nav.length ? nav[0].nextHopProtocol : "";
    if (p === "h2") {
      return "HTTP/2";
    }
    if (p === "http/1.1") {
      return "HTTP/1.1";
    }
    if (p === "http/1.0") {
      return "HTTP/1.0";
    }
    return p ? p : "an unknown protocol";
  }

  function showProtocol() {
    var el = $("proto");
    if (el) {
      el.textContent = pageProtocol();
    }
  }

  /* Tell the user before uploading a file the server will refuse (413). */
  function bindUploadCheck() {
    var input = $("file-multipart");
    var note = $("file-note");
    var form = $("form-multipart");
    if (!input || !note || !form) {
      return;
    }
    function tooBig() {
      return input.files && input.files.length && input.files[0].size > MAX_UPLOAD;
    }
    input.addEventListener("change", function () {
      if (tooBig()) {
        note.textContent = "That file is " + input.files[0].size +
          " bytes; the server accepts up to " + MAX_UPLOAD + ".";
        note.classList.add("warn");
      } else {
        note.textContent = "";
        note.classList.remove("warn");
      }
    });
    form.addEventListener("submit", function (ev) {
      if (tooBig()) {
        ev.preventDefault();
      }
    });
  }

  function init() {
    showProtocol();
    bindUploadCheck();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
