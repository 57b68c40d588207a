#!/usr/bin/env python3
"""Headless Chromium walks through the lwsws demo page like a user would.

usage: demo_browser.py BASE_URL EXPECT_PROTO UPLOAD_FILE
  BASE_URL e.g. http://127.0.0.1:7681 ; EXPECT_PROTO: HTTP/1.1 or HTTP/2 (what #proto must say)
Prints one `PASS name` / `FAIL name: detail` line per check (the caller counts them); exit 0 unless the browser
itself could not be driven.

Besides the page itself and the two /formtest forms, it exercises the WebSocket panels the page opens
(dumb-increment-protocol, lws-mirror-protocol, lws-status): the counter runs, resets, survives junk and is closed by
the server with 1001 "seeya" on request; a mouse stroke on the mirror canvas comes back from the server (to the page
and to a second member of the instance) and is drawn; the status table lists a second lws-status connection opened
from the test and drops it again when it closes.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium_cdp import Browser  # noqa: E402

# Registered before any page script runs, on every document: records CSP violations into a global.
CSP_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') +
                    (e.sourceFile ? ' at ' + e.sourceFile + ':' + e.lineNumber : ''));
});
"""

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(ok)
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, detail), flush=True)


def problems(events, since):
    """CSP-related console/log messages and uncaught exceptions among events[since:]."""
    csp, errors = [], []
    for method, p in events[since:]:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            if "Content Security Policy" in text or "Content-Security-Policy" in text:
                csp.append("console: " + text[:200])
            elif p.get("type") in ("error", "assert"):
                errors.append("console.%s: %s" % (p.get("type"), text[:200]))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            text = e.get("text", "")
            if "Content Security Policy" in text or "Content-Security-Policy" in text or e.get("source") == "security":
                csp.append("log: " + text[:200])
            elif e.get("level") == "error":
                errors.append("log(%s): %s %s" % (e.get("source"), text[:200], e.get("url", "")))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append("exception: %s" % (d.get("exception", {}).get("description") or d.get("text"))[:200])
    return csp, errors


def page_clean(b, label, since):
    viol = b.eval("window.__csp || ['probe missing']")
    csp, errors = problems(b.events, since)
    check("%s-no-csp-violation" % label, not viol and not csp, "; ".join((viol or []) + csp)[:600])
    check("%s-no-js-errors" % label, not errors, "; ".join(errors)[:600])


def click(b, element_id):
    """Click an element the way a user does: real mouse events at its centre (after scrolling it into view)."""
    box = b.eval("(function(){var e=document.getElementById(%s); e.scrollIntoView({block:'center'});"
                 "var r=e.getBoundingClientRect();"
                 "return [r.left + r.width / 2, r.top + r.height / 2];})()" % json.dumps(element_id))
    for t in ("mouseMoved", "mousePressed", "mouseReleased"):
        b.call("Input.dispatchMouseEvent", type=t, x=box[0], y=box[1], button="left", clickCount=1)


def submit_and_wait(b, button_id):
    """Click a submit button the way a user does (mouse at its centre) and wait for the next page's load."""
    mark = len(b.events)
    click(b, button_id)
    b.wait_event("Page.frameNavigated", 30, since=mark)
    b.wait_event("Page.loadEventFired", 30, since=mark)
    return mark


RESULT_TABLE = """(function () {
  var t = document.querySelector('table#form-results');
  if (!t) return null;
  var rows = [];
  t.querySelectorAll('tr').forEach(function (tr) {
    var c = tr.querySelectorAll('td');
    if (c.length >= 3) rows.push([c[0].textContent.trim(), c[1].textContent.trim(), c[2].textContent]);
  });
  return {rows: rows, elements: t.querySelectorAll('i, b, script, img').length, path: location.pathname,
          css: document.styleSheets.length};
})()"""


# ---- WebSocket panels ------------------------------------------------------------------------------------------

def poll(b, expr, ok, timeout=5.0, interval=0.05):
    """Evaluate expr in the page until ok(value) holds or timeout passes; returns (held, last value)."""
    deadline = time.time() + timeout
    while True:
        v = b.eval(expr)
        if ok(v):
            return True, v
        if time.time() >= deadline:
            return False, v
        time.sleep(interval)  # bounded polling of page state driven by the server's 50 ms timer


def text_of(element_id):
    return "(document.getElementById(%s) || {}).textContent || ''" % json.dumps(element_id)


def as_int(v):
    try:
        return int(str(v).strip())
    except ValueError:
        return None


COUNTER = "parseInt(%s, 10)" % text_of("counter-value")
COUNTER_DOWN = "document.getElementById('ws-counter').classList.contains('down')"
STATUS_ROWS = "document.querySelectorAll('#status-table tbody tr').length"
ALL_OPEN = "connected (3 open)"

# A second member of the page's mirror instance, and a second lws-status connection, opened from the test inside
# the page (same origin and CSP). Each records what it receives.
OPEN_PEER = """(function (proto, query, key) {
  var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/' + query;
  var rec = window[key] = {open: false, closed: false, msgs: []};
  var ws = rec.ws = new WebSocket(url, proto);
  ws.addEventListener('open', function () { rec.open = true; });
  ws.addEventListener('message', function (e) { rec.msgs.push(String(e.data)); });
  ws.addEventListener('close', function (e) { rec.closed = true; rec.code = e.code; });
  return true;
})(%s, %s, %s)"""


def open_peer(b, proto, query, key):
    b.eval(OPEN_PEER % (json.dumps(proto), json.dumps(query), json.dumps(key)))
    ok, _ = poll(b, "window.%s.open || window.%s.closed" % (key, key), bool)
    return ok and b.eval("window.%s.open && !window.%s.closed" % (key, key))


def mouse_stroke(b, canvas_id, points):
    """Press at the first point, move through the rest, release at the last: canvas coordinates (480x300)."""
    r = b.eval("(function(){var c=document.getElementById(%s); c.scrollIntoView({block:'center'});"
               "var r=c.getBoundingClientRect(); return [r.left, r.top, r.width / c.width, r.height / c.height];})()"
               % json.dumps(canvas_id))
    vp = [(r[0] + x * r[2], r[1] + y * r[3]) for x, y in points]
    b.call("Input.dispatchMouseEvent", type="mouseMoved", x=vp[0][0], y=vp[0][1], button="none", buttons=0)
    b.call("Input.dispatchMouseEvent", type="mousePressed", x=vp[0][0], y=vp[0][1], button="left", buttons=1,
           clickCount=1)
    for x, y in vp[1:]:
        b.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1)
    b.call("Input.dispatchMouseEvent", type="mouseReleased", x=vp[-1][0], y=vp[-1][1], button="left", buttons=0,
           clickCount=1)


def websocket_checks(b, want_proto):
    ok, st = poll(b, text_of("ws-state"), lambda v: ALL_OPEN in v)
    check("ws-state-all-connected", ok, "#ws-state %r (want %r)" % (st, ALL_OPEN))
    # Debian's Chromium runs WebSockets over HTTP/2 (RFC 8441) when the server offers it: over h2 the
    # server must report every demo WebSocket as riding an h2 stream. The report comes with lws-status's
    # next update, after the sockets opened: wait for it rather than read the line once.
    want_h2 = ("WebSockets over HTTP/2: no",) if want_proto == "HTTP/1.1" else \
        ("WebSockets over HTTP/2: yes",)
    ok, h2 = poll(b, text_of("ws-over-h2"), lambda v: v.startswith(want_h2))
    check("ws-over-h2-line", ok, "#ws-over-h2 %r" % h2)
    print("INFO #ws-over-h2: %s" % h2, flush=True)
    panels = b.eval("['ws-counter','ws-mirror','ws-status'].filter(function (id) {"
                    " var e = document.getElementById(id); return !e || e.hidden ||"
                    " e.classList.contains('down'); })")
    check("ws-panels-live", panels == [], "panels hidden or greyed out: %r" % panels)

    # ---- dumb-increment-protocol -------------------------------------------------------------------------------
    ok, v1 = poll(b, COUNTER, lambda v: isinstance(v, int) and v > 5)
    check("counter-rises-above-5", ok, "#counter-value %r" % b.eval(text_of("counter-value")))
    ok, v2 = poll(b, COUNTER, lambda v: isinstance(v, int) and isinstance(v1, int) and v > v1)
    check("counter-increases", ok, "#counter-value %r then %r" % (v1, v2))
    ext = b.eval(text_of("counter-ext"))
    check("counter-ext-permessage-deflate", "permessage-deflate" in ext, "#counter-ext %r" % ext)

    before = b.eval(COUNTER)
    click(b, "counter-junk")
    ok, after = poll(b, COUNTER, lambda v: isinstance(v, int) and isinstance(before, int) and v >= before + 5)
    down = b.eval(COUNTER_DOWN)
    check("counter-survives-junk", ok and not down,
          "9000-byte message: counter %r -> %r, panel down %r, %s" % (before, after, down,
                                                                       b.eval(text_of("counter-close"))))

    # let it climb well clear of zero so a reset is unmistakable
    poll(b, COUNTER, lambda v: isinstance(v, int) and v >= 30)
    prev = b.eval(COUNTER)
    click(b, "counter-reset")
    ok, low = poll(b, COUNTER, lambda v: isinstance(v, int) and isinstance(prev, int) and v < prev)
    check("counter-reset-drops", ok, "#counter-value %r before reset, %r after" % (prev, low))

    # ---- lws-mirror-protocol ------------------------------------------------------------------------------------
    mext = b.eval(text_of("mirror-ext"))
    check("mirror-no-permessage-deflate", "Extensions:" in mext and "permessage-deflate" not in mext,
          "#mirror-ext %r (the mirror protocol refuses permessage-deflate)" % mext)
    name = b.eval("document.getElementById('mirror-name').value.trim()")
    query = "?mirror=" + name if name else ""
    peer_up = open_peer(b, "lws-mirror-protocol", query, "__mirrorPeer")
    b.eval("document.getElementById('mirror-colour').value = '#ff0000'")
    received0 = as_int(b.eval(text_of("mirror-received"))) or 0
    mouse_stroke(b, "mirror-canvas", [(100 + 10 * i, 150) for i in range(13)])
    ok, got = poll(b, text_of("mirror-received"), lambda v: (as_int(v) or 0) > received0)
    check("mirror-received", ok, "#mirror-received %r after drawing (was %d)" % (got, received0))
    ok, peer = poll(b, "window.__mirrorPeer ? window.__mirrorPeer.msgs.join('') : ''",
                    lambda v: "d #ff0000 " in (v or ""))
    check("mirror-broadcast-to-other-member", peer_up and ok,
          "second member open %r, received %r" % (peer_up, (peer or "")[:200]))
    pixel = b.eval("Array.prototype.slice.call(document.getElementById('mirror-canvas').getContext('2d')"
                   ".getImageData(160, 150, 1, 1).data)")
    check("mirror-stroke-rendered", bool(pixel) and pixel[3] > 200 and pixel[0] > 200 and pixel[1] < 80,
          "RGBA at (160,150) %r (want the red stroke)" % (pixel,))
    b.eval("window.__mirrorPeer && window.__mirrorPeer.ws.close()")

    # ---- lws-status -------------------------------------------------------------------------------------------
    ok, n0 = poll(b, "parseInt(%s, 10)" % text_of("status-count"), lambda v: isinstance(v, int) and v >= 1)
    rows0 = b.eval(STATUS_ROWS)
    check("status-lists-this-page", ok and rows0 == n0, "#status-count %r, %r table rows" % (n0, rows0))
    row = b.eval("(function(){var r=document.querySelector('#status-table tbody tr');"
                 "return r ? Array.prototype.map.call(r.cells, function (c) { return c.textContent; }) : null;})()")
    check("status-row-content", bool(row) and len(row) == 3 and "127.0.0.1" in row[0] and "Chrome" in row[2]
          and row[1] not in ("", "?"), "first row %r" % (row,))
    status_up = open_peer(b, "lws-status", "", "__statusPeer")
    ok, n = poll(b, "[parseInt(%s, 10), %s]" % (text_of("status-count"), STATUS_ROWS),
                 lambda v: isinstance(v[0], int) and v[0] >= 2 and v[1] >= 2)
    check("status-two-connections", status_up and ok,
          "second lws-status socket open %r; #status-count and rows %r" % (status_up, n))
    pmsg = b.eval("window.__statusPeer ? window.__statusPeer.msgs[window.__statusPeer.msgs.length - 1] : null")
    try:
        doc = json.loads(pmsg or "")
        doc_ok = (str(doc.get("version", "")).startswith("lws-rs ") and isinstance(doc.get("conns"), list)
                  and doc.get("wsi") == str(len(doc["conns"])) and doc.get("wss_over_h2") in ("0", "1"))
    except ValueError:
        doc, doc_ok = pmsg, False
    check("status-json-document", doc_ok, "lws-status message %r" % (str(pmsg)[:300],))
    b.eval("window.__statusPeer && window.__statusPeer.ws.close()")
    ok, n = poll(b, "[parseInt(%s, 10), %s]" % (text_of("status-count"), STATUS_ROWS),
                 lambda v: isinstance(n0, int) and v[0] == n0 and v[1] == n0)
    check("status-drops-closed-connection", ok, "#status-count and rows %r after the close (want %r)" % (n, n0))

    # ---- server-initiated close -------------------------------------------------------------------------------
    click(b, "counter-closeme")
    ok, why = poll(b, text_of("counter-close"), lambda v: "1001" in v and "seeya" in v)
    check("counter-closeme-1001-seeya", ok, "#counter-close %r" % why)
    ok, st = poll(b, "[%s, %s]" % (COUNTER_DOWN, text_of("ws-state")),
                  lambda v: v[0] is True and "counter" in v[1] and ALL_OPEN not in v[1])
    check("counter-panel-greyed-when-closed", ok, "panel down / #ws-state %r" % (st,))
    click(b, "counter-reconnect")
    ok, st = poll(b, "[%s, %s, %s]" % (COUNTER_DOWN, text_of("ws-state"), COUNTER),
                  lambda v: v[0] is False and ALL_OPEN in v[1] and isinstance(v[2], int) and v[2] > 0)
    check("counter-reconnect", ok, "panel down, #ws-state, counter %r" % (st,))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    base, want_proto, upload = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    with Browser() as b:
        for m in ("Page.enable", "Runtime.enable", "Log.enable", "DOM.enable"):
            b.call(m)
        b.call("Page.addScriptToEvaluateOnNewDocument", source=CSP_PROBE)

        # ---- the demo page -----------------------------------------------------------------------------------
        mark = len(b.events)
        b.navigate(base + "/")
        check("page-title", b.eval("document.title") == "lws-rs demo", repr(b.eval("document.title")))
        proto = b.eval("(document.getElementById('proto') || {}).textContent")
        check("proto-says-%s" % want_proto, proto == want_proto, "#proto says %r" % proto)
        nh = b.eval("performance.getEntriesByType('navigation')[0].nextHopProtocol")
        check("navigation-protocol", nh == {"HTTP/1.1": "http/1.1", "HTTP/2": "h2"}.get(want_proto),
              "nextHopProtocol %r" % nh)
        styled = b.eval("document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 0 && "
                        "getComputedStyle(document.querySelector('.card')).borderTopStyle !== 'none'")
        check("stylesheet-applied", styled is True, "demo.css not loaded or not applied")
        logo = b.eval("Array.prototype.every.call(document.images, function (i) {"
                      " return i.complete && i.naturalWidth > 0; }) && document.images.length > 0")
        check("images-load", logo is True, "an <img> did not load (type or CSP?)")
        # lwsws compresses by default: the page, its script and its style arrive encoded (Chromium asks for
        # gzip, deflate, br, zstd) and decode to more bytes than were transferred.
        sizes = b.eval("performance.getEntriesByType('navigation').concat("
                       "performance.getEntriesByType('resource')).filter(function (e) {"
                       " return /(\\/|\\.html|\\.js|\\.css)$/.test(e.name); }).map(function (e) {"
                       " return [e.name.split('/').pop() || 'index', e.encodedBodySize, e.decodedBodySize]; })")
        shrunk = [n for n, enc, dec in sizes or [] if 0 < enc < dec]
        check("html-js-css-compressed", len(shrunk) >= 3 and len(shrunk) == len(sizes),
              "encoded/decoded sizes %r" % (sizes,))
        ws = b.eval("(document.getElementById('ws-state') || {}).textContent")
        check("ws-state-line", bool(ws) and "WebSocket" in ws, "#ws-state %r" % ws)
        websocket_checks(b, want_proto)
        page_clean(b, "demo-page", mark)

        # ---- urlencoded form ---------------------------------------------------------------------------------
        value = "<i>x&y</i>"
        b.eval("document.getElementById('text-urlencoded').value = %s" % json.dumps(value))
        mark = submit_and_wait(b, "send-urlencoded")
        r = b.eval(RESULT_TABLE)
        if not r:
            check("urlencoded-result-table", False, "no table#form-results at %s" % b.eval("location.href"))
        else:
            rows = {row[0]: row for row in r["rows"]}
            check("urlencoded-result-table", r["path"] == "/formtest", "landed on %s" % r["path"])
            t = rows.get("text")
            check("urlencoded-text-escaped", t is not None and t[2] == value and t[1] == str(len(value)),
                  "text row %r (want value %r length %d)" % (t, value, len(value)))
            check("urlencoded-no-markup-in-table", r["elements"] == 0, "%d elements inside the table" % r["elements"])
            s = rows.get("send")
            check("urlencoded-send-param", s is not None and s[2] == "Send", "send row %r" % (s,))
            check("result-page-styled", r["css"] > 0, "no stylesheet on the result page")
        page_clean(b, "result-page", mark)

        # ---- multipart form with a file ----------------------------------------------------------------------
        b.navigate(base + "/")
        name = os.path.basename(upload)
        size = os.path.getsize(upload)
        doc = b.call("DOM.getDocument", depth=0)
        node = b.call("DOM.querySelector", nodeId=doc["root"]["nodeId"], selector="#file-multipart")
        if not node.get("nodeId"):
            check("multipart-upload", False, "no #file-multipart input on the page")
        else:
            b.call("DOM.setFileInputFiles", files=[os.path.abspath(upload)], nodeId=node["nodeId"])
            b.eval("document.getElementById('text-multipart').value = 'multi&part'")
            mark = submit_and_wait(b, "send-multipart")
            fr = b.eval("(document.getElementById('file-result') || {}).textContent || ''")
            check("multipart-file-result", name in fr and str(size) in fr,
                  "#file-result %r (want %r and %d)" % (fr[:200], name, size))
            r = b.eval(RESULT_TABLE) or {"rows": []}
            rows = {row[0]: row for row in r["rows"]}
            t, u = rows.get("text"), rows.get("upload")
            check("multipart-params", t is not None and t[2] == "multi&part" and u is not None and u[2] == "Upload",
                  "rows %r" % r["rows"])
            page_clean(b, "upload-result-page", mark)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:
        print("FAIL browser: %s: %s" % (type(e).__name__, str(e)[:800]), flush=True)
        sys.exit(1)
