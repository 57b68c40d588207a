// Event page for the lws-rs SSE examples: loaded from <head> (strict CSP, no inline script). The element
// #log names the event stream (data-endpoint) and the event types to show besides "message" (data-types).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const source = new EventSource(log.dataset.endpoint);
  // Every event the page got, in order: what a test driving the browser reads.
  window.lwsEvents = [];

  source.addEventListener("open", function () {
    status.textContent = "open";
  });
  source.addEventListener("error", function () {
    // The browser reconnects by itself (sending Last-Event-ID) unless the stream was refused.
    status.textContent = source.readyState === EventSource.CONNECTING ? "reconnecting" : "closed";
  });

  function show(e) {
    window.lwsEvents.push({ type: e.type, id: e.lastEventId, data: e.data });
    const lines = (log.value + "[" + e.lastEventId + "] " + e.data + "\n").split("\n");
    // A textarea's value is never parsed as HTML; keep the last 200 lines.
    log.value = lines.slice(-201).join("\n");
    log.scrollTop = log.scrollHeight;
  }
  source.addEventListener("message", show);
  for (const type of (log.dataset.types || "").split(" ").filter(Boolean)) {
    source.addEventListener(type, show);
  }
});
