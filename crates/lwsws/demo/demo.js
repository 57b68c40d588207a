/* lws-rs demo page script. Loaded with `defer` from <head>; no inline script or handlers (strict CSP).
 *
 * Three WebSocket connections back the demo panels, one per subprotocol of the libwebsockets test server:
 *   dumb-increment-protocol  a counter the server bumps every 50 ms ("reset\n", "closeme\n")
 *   lws-mirror-protocol      every message goes to every member of the mirror instance (?mirror=<name>)
 *   lws-status               a JSON list of the live lws-status connections, sent on every connect/close
 */
"use strict";

(function () {
  var MAX_UPLOAD = 100000;
  var CANVAS_W = 480;
  var CANVAS_H = 300;
  var MIRROR_FLUSH_CHARS = 400;
  var MIRROR_FLUSH_MS = 10;
  var RETRY_MIN_MS = 1000;
  var RETRY_MAX_MS = 16000;

  var leaving = false;
  var channels = [];

  function $(id) {
    return document.getElementById(id);
  }

  function setText(id, text) {
    var el = $(id);
    if (el) {
      el.textContent = text;
    }
  }

  /* "http/1.1" / "h2" from Navigation Timing; older engines may not expose it. */
  function nextHop() {
    var nav = window.performance && performance.getEntriesByType ?
      performance.getEntriesByType("navigation") : [];
    return nav.length ? nav[0].nextHopProtocol : "";
  }

  function pageProtocol() {
    var p = nextHop();
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
    setText("proto", pageProtocol());
    showWsOverH2(null);
  }

  /* Script cannot see whether the browser carried a WebSocket over an HTTP/2 stream (RFC 8441). It can only happen
   * on an https page that itself came over h2; the lws-status document says what the server saw for that socket. */
  function showWsOverH2(serverSays) {
    var text = "no";
    if (serverSays === "1") {
      text = "yes (RFC 8441, reported by the server)";
    } else if (location.protocol === "https:" && nextHop() === "h2") {
      text = "maybe (RFC 8441)";
    }
    setText("ws-over-h2", "WebSockets over HTTP/2: " + text);
  }

  function wsUrl(query) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/" + (query || "");
  }

  function describeClose(ev) {
    var what = "closed: " + ev.code;
    if (ev.reason) {
      what += " " + ev.reason;
    } else if (ev.code === 1006) {
      what += " (connection lost, no close frame)";
    } else if (ev.code === 1005) {
      what += " (no status code)";
    }
    return what;
  }

  /* One WebSocket behind a panel: (re)connects, greys the panel out while down, retries with backoff. */
  function Channel(opts) {
    this.label = opts.label;
    this.protocol = opts.protocol;
    this.panel = $(opts.panel);
    this.badge = $(opts.badge);
    this.query = opts.query || function () { return ""; };
    this.onOpen = opts.onOpen || function () {};
    this.onMessage = opts.onMessage || function () {};
    this.onClose = opts.onClose || function () {};
    this.shouldRetry = opts.shouldRetry || function () { return true; };
    this.ws = null;
    this.retryMs = RETRY_MIN_MS;
    this.retryTimer = 0;
    this.again = false;
    this.state = "connecting";
    channels.push(this);
  }

  Channel.prototype.isOpen = function () {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  };

  Channel.prototype.setState = function (state) {
    this.state = state;
    if (this.panel) {
      this.panel.classList.toggle("down", state !== "open");
    }
    if (this.badge) {
      this.badge.textContent = state;
      this.badge.classList.toggle("up", state === "open");
    }
    showWsState();
  };

  Channel.prototype.connect = function () {
    var self = this;
    var ws;
    if (leaving) {
      return;
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = 0;
    }
    if (this.ws) {
      if (this.ws.readyState === WebSocket.CONNECTING) {
        /* closing it now would only log an error: start over once it reports open or closed */
        this.again = true;
        return;
      }
      var old = this.ws;
      this.ws = null;
      if (old.readyState === WebSocket.OPEN) {
        old.close(1000, "reconnecting");
      }
    }
    try {
      ws = new WebSocket(wsUrl(this.query()), this.protocol);
    } catch (e) {
      this.setState("unavailable");
      return;
    }
    this.ws = ws;
    this.setState("connecting");
    ws.addEventListener("open", function () {
      if (self.ws !== ws) {
        return;
      }
      if (self.again) {
        self.again = false;
        self.connect();
        return;
      }
      self.retryMs = RETRY_MIN_MS;
      self.setState("open");
      self.onOpen(ws);
    });
    ws.addEventListener("message", function (ev) {
      if (self.ws === ws) {
        self.onMessage(ev.data, ws);
      }
    });
    ws.addEventListener("close", function (ev) {
      if (self.ws !== ws) {
        return; /* a socket we replaced */
      }
      self.ws = null;
      self.onClose(ev);
      if (leaving) {
        return;
      }
      if (self.again) {
        self.again = false;
        self.connect();
      } else if (self.shouldRetry(ev)) {
        self.setState("retrying in " + Math.round(self.retryMs / 1000) + " s");
        self.retryTimer = setTimeout(function () {
          self.retryTimer = 0;
          self.connect();
        }, self.retryMs);
        self.retryMs = Math.min(self.retryMs * 2, RETRY_MAX_MS);
      } else {
        self.setState("closed");
      }
    });
  };

  Channel.prototype.send = function (text) {
    if (this.isOpen()) {
      this.ws.send(text);
      return true;
    }
    return false;
  };

  function showWsState() {
    var open = 0;
    var down = [];
    channels.forEach(function (c) {
      if (c.state === "open") {
        open++;
      } else {
        down.push(c.label + " " + c.state);
      }
    });
    var el = $("ws-state");
    if (!el) {
      return;
    }
    if (!down.length) {
      el.textContent = "WebSocket: connected (" + open + " open)";
    } else {
      el.textContent = "WebSocket: " + down.join(", ") + " (" + open + " of " + channels.length + " open)";
    }
    el.classList.toggle("warn", down.length > 0);
  }

  function enable(ids, on) {
    ids.forEach(function (id) {
      var el = $(id);
      if (el) {
        el.disabled = !on;
      }
    });
  }

  function extensionsText(ws) {
    return "Extensions: " + (ws.extensions ? ws.extensions : "none");
  }

  /* ---- dumb-increment-protocol -------------------------------------------------------------------------- */

  function initCounter() {
    var buttons = ["counter-reset", "counter-junk", "counter-closeme"];
    var askedToClose = false;
    var junk = new Array(9001).join("a");
    var chan = new Channel({
      label: "counter",
      protocol: "dumb-increment-protocol",
      panel: "ws-counter",
      badge: "counter-badge",
      onOpen: function (ws) {
        askedToClose = false;
        enable(buttons, true);
        setText("counter-ext", extensionsText(ws));
        setText("counter-close", "open");
      },
      onMessage: function (data) {
        setText("counter-value", String(data));
      },
      onClose: function (ev) {
        enable(buttons, false);
        setText("counter-close", describeClose(ev));
      },
      /* when we asked for the close, stay closed until "Reconnect" */
      shouldRetry: function () {
        return !askedToClose;
      }
    });
    $("counter-reset").addEventListener("click", function () {
      chan.send("reset\n");
    });
    $("counter-junk").addEventListener("click", function () {
      chan.send(junk);
    });
    $("counter-closeme").addEventListener("click", function () {
      if (chan.send("closeme\n")) {
        askedToClose = true;
      }
    });
    $("counter-reconnect").addEventListener("click", function () {
      chan.connect();
    });
    return chan;
  }

  /* ---- lws-mirror-protocol ------------------------------------------------------------------------------ */

  var COLOUR_RE = /^#[0-9a-fA-F]{6}$/;

  function initMirror() {
    var canvas = $("mirror-canvas");
    var ctx = canvas.getContext("2d");
    var colour = $("mirror-colour");
    var nameInput = $("mirror-name");
    var pending = "";
    var flushTimer = 0;
    var received = 0;
    var commands = 0;
    var pen = null; /* {id, x, y, moved} while a pointer is down */
    var chan;

    function mirrorName() {
      return nameInput.value.trim();
    }

    function flush() {
      if (flushTimer) {
        clearTimeout(flushTimer);
        flushTimer = 0;
      }
      if (pending) {
        chan.send(pending);
        pending = "";
      }
    }

    function queue(cmd) {
      if (!chan.isOpen()) {
        return;
      }
      pending += cmd;
      if (pending.length > MIRROR_FLUSH_CHARS) {
        flush();
      } else if (!flushTimer) {
        flushTimer = setTimeout(flush, MIRROR_FLUSH_MS);
      }
    }

    function currentColour() {
      return COLOUR_RE.test(colour.value) ? colour.value.toLowerCase() : "#000000";
    }

    /* Pointer position in canvas coordinates (the canvas may be scaled by CSS on narrow screens). */
    function at(ev) {
      var r = canvas.getBoundingClientRect();
      var x = (ev.clientX - r.left) * CANVAS_W / (r.width || CANVAS_W);
      var y = (ev.clientY - r.top) * CANVAS_H / (r.height || CANVAS_H);
      return {
        x: Math.max(0, Math.min(CANVAS_W, Math.round(x))),
        y: Math.max(0, Math.min(CANVAS_H, Math.round(y)))
      };
    }

    function num(s) {
      var n = Number(s);
      return s !== "" && isFinite(n) ? n : NaN;
    }

    /* Render received commands: "d #rrggbb x1 y1 x2 y2;" and "c #rrggbb x y r;". Anything else is skipped. */
    function render(text) {
      text.split(";").forEach(function (cmd) {
        var f = cmd.trim().split(/\s+/);
        var v;
        if (f.length < 2 || !COLOUR_RE.test(f[1])) {
          return;
        }
        if (f[0] === "d" && f.length === 6) {
          v = f.slice(2).map(num);
          if (v.some(isNaN)) {
            return;
          }
          ctx.strokeStyle = f[1];
          ctx.lineWidth = 3;
          ctx.lineCap = "round";
          ctx.beginPath();
          ctx.moveTo(v[0], v[1]);
          ctx.lineTo(v[2], v[3]);
          ctx.stroke();
          commands++;
        } else if (f[0] === "c" && f.length === 5) {
          v = f.slice(2).map(num);
          if (v.some(isNaN) || v[2] < 0) {
            return;
          }
          ctx.fillStyle = f[1];
          ctx.beginPath();
          ctx.arc(v[0], v[1], Math.min(v[2], CANVAS_W), 0, 2 * Math.PI);
          ctx.fill();
          commands++;
        }
      });
    }

    chan = new Channel({
      label: "mirror",
      protocol: "lws-mirror-protocol",
      panel: "ws-mirror",
      badge: "mirror-badge",
      query: function () {
        var n = mirrorName();
        return n ? "?mirror=" + encodeURIComponent(n) : "";
      },
      onOpen: function (ws) {
        var n = mirrorName();
        setText("mirror-ext", extensionsText(ws));
        setText("mirror-close", "joined " + (n ? "\u201c" + n + "\u201d" : "the default instance"));
      },
      onMessage: function (data) {
        if (typeof data !== "string") {
          return;
        }
        received++;
        render(data);
        setText("mirror-received", String(received));
        setText("mirror-commands", String(commands));
      },
      onClose: function (ev) {
        pending = "";
        setText("mirror-close", describeClose(ev));
      },
      /* 1013: the server has no room for another mirror instance; retrying will not help */
      shouldRetry: function (ev) {
        return ev.code !== 1013;
      }
    });

    canvas.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) {
        return;
      }
      var p = at(ev);
      pen = {id: ev.pointerId, x: p.x, y: p.y, moved: false};
      try {
        canvas.setPointerCapture(ev.pointerId);
      } catch (e) {
        /* capture is a nicety */
      }
      ev.preventDefault();
    });
    canvas.addEventListener("pointermove", function (ev) {
      if (!pen || ev.pointerId !== pen.id) {
        return;
      }
      var p = at(ev);
      if (p.x === pen.x && p.y === pen.y) {
        return;
      }
      queue("d " + currentColour() + " " + pen.x + " " + pen.y + " " + p.x + " " + p.y + ";");
      pen.x = p.x;
      pen.y = p.y;
      pen.moved = true;
      ev.preventDefault();
    });
    function penUp(ev) {
      if (!pen || ev.pointerId !== pen.id) {
        return;
      }
      if (!pen.moved && ev.type === "pointerup") {
        queue("c " + currentColour() + " " + pen.x + " " + pen.y + " 4;"); /* a click leaves a dot */
      }
      pen = null;
      flush();
    }
    canvas.addEventListener("pointerup", penUp);
    canvas.addEventListener("pointercancel", penUp);

    $("mirror-clear").addEventListener("click", function () {
      ctx.clearRect(0, 0, CANVAS_W, CANVAS_H);
    });
    $("mirror-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      ctx.clearRect(0, 0, CANVAS_W, CANVAS_H);
      chan.connect();
    });
    return chan;
  }

  /* ---- lws-status --------------------------------------------------------------------------------------- */

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function initStatus() {
    var chan = new Channel({
      label: "status",
      protocol: "lws-status",
      panel: "ws-status",
      badge: "status-badge",
      onOpen: function () {
        setText("status-close", "");
      },
      onMessage: function (data) {
        var doc;
        try {
          doc = JSON.parse(data);
        } catch (e) {
          setText("status-close", "unreadable status message (" + String(data).length + " bytes)");
          return;
        }
        var conns = Array.isArray(doc.conns) ? doc.conns : [];
        var tbody = $("status-rows");
        while (tbody.firstChild) {
          tbody.removeChild(tbody.firstChild);
        }
        conns.forEach(function (c) {
          var tr = document.createElement("tr");
          var secs = Number(c.time);
          cell(tr, String(c.peer || ""));
          cell(tr, secs > 0 ? new Date(secs * 1000).toLocaleString() : "?");
          cell(tr, String(c.ua || ""));
          tbody.appendChild(tr);
        });
        setText("status-count", String(conns.length));
        setText("status-server", doc.version || doc.hostname ?
          "\u2014 server " + (doc.version || "?") + " on " + (doc.hostname || "?") : "");
        showWsOverH2(doc.wss_over_h2);
      },
      onClose: function (ev) {
        setText("status-close", describeClose(ev));
      }
    });
    return chan;
  }

  function initWebSockets() {
    if (!window.WebSocket) {
      setText("ws-state", "WebSocket: not supported by this browser");
      return;
    }
    window.addEventListener("pagehide", function () {
      leaving = true;
    });
    /* back/forward cache: the sockets were closed when the page was hidden */
    window.addEventListener("pageshow", function (ev) {
      if (ev.persisted) {
        leaving = false;
        channels.forEach(function (c) {
          if (!c.ws) {
            c.connect();
          }
        });
      }
    });
    [initCounter(), initMirror(), initStatus()].forEach(function (c) {
      c.connect();
    });
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
    if ($("ws-counter")) {
      initWebSockets();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
