// Page for minimal-ws-broker: one subscriber and one publisher connection (strict CSP: no inline script).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const msg = document.getElementById("msg");
  const send = document.getElementById("send");
  const base = (location.protocol === "https:" ? "wss://" : "ws://") + location.host;

  function status(id, text, open) {
    const el = document.getElementById(id);
    el.textContent = text;
    el.className = open ? "open" : "closed";
  }

  const sub = new WebSocket(base + "/", "lws-minimal-broker");
  sub.addEventListener("open", function () { status("sub-status", "connected", true); });
  sub.addEventListener("close", function (e) { status("sub-status", "closed (" + e.code + ")", false); });
  sub.addEventListener("message", function (e) {
    log.value += e.data + "\n";
    log.scrollTop = log.scrollHeight;
  });

  const pub = new WebSocket(base + "/publisher", "lws-minimal-broker");
  pub.addEventListener("open", function () {
    status("pub-status", "connected", true);
    msg.disabled = false;
    send.disabled = false;
  });
  pub.addEventListener("close", function (e) {
    status("pub-status", "closed (" + e.code + ")", false);
    msg.disabled = true;
    send.disabled = true;
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (msg.value !== "") {
      pub.send(msg.value);
      msg.value = "";
    }
  });
});
