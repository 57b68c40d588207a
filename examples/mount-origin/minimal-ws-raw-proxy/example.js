// Page for minimal-ws-raw-proxy: loaded from <head> (strict CSP, no inline script), wired up on load.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const msg = document.getElementById("msg");
  const send = document.getElementById("send");
  const status = document.getElementById("status");

  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/", "lws-ws-raw-ws");
  ws.binaryType = "arraybuffer";

  function setStatus(text, open) {
    status.textContent = text;
    status.className = open ? "open" : "closed";
    msg.disabled = !open;
    send.disabled = !open;
  }

  ws.addEventListener("open", function () {
    setStatus("connected", true);
    msg.focus();
  });
  ws.addEventListener("close", function (e) {
    setStatus("closed (" + e.code + (e.reason ? ": " + e.reason : "") + ")", false);
  });
  ws.addEventListener("message", function (e) {
    // Bytes that were not UTF-8 arrive as binary messages: shown with replacement characters.
    const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data);
    // A textarea's value is never parsed as HTML.
    log.value += text;
    log.scrollTop = log.scrollHeight;
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (msg.value !== "") {
      ws.send(msg.value + "\n");
      msg.value = "";
    }
  });
});
