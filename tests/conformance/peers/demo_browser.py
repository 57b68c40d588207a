#!/usr/bin/env python3
"""Headless Chromium walks through the lwsws demo page like a user would.

usage: demo_browser.py BASE_URL EXPECT_PROTO UPLOAD_FILE
  BASE_URL e.g. http://127.0.0.1:7681 ; EXPECT_PROTO: HTTP/1.1 or HTTP/2 (what #proto must say)
Prints one `PASS name` / `FAIL name: detail` line per check (the caller counts them); exit 0 unless the browser
itself could not be driven.
"""
import json
import os
import sys

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


def submit_and_wait(b, button_id):
    """Click a submit button the way a user does (mouse at its centre) and wait for the next page's load."""
    box = b.eval("(function(){var e=document.getElementById(%s); e.scrollIntoView({block:'center'});"
                 "var r=e.getBoundingClientRect();"
                 "return [r.left + r.width / 2, r.top + r.height / 2];})()" % json.dumps(button_id))
    mark = len(b.events)
    for t in ("mouseMoved", "mousePressed", "mouseReleased"):
        b.call("Input.dispatchMouseEvent", type=t, x=box[0], y=box[1], button="left", clickCount=1)
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
        ws = b.eval("(document.getElementById('ws-state') || {}).textContent")
        check("ws-state-line", bool(ws) and "WebSocket" in ws, "#ws-state %r" % ws)
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
