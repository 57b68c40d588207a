#!/usr/bin/env python3
"""Headless Chromium follows a Server-Sent Events page of the lws-rs examples.

usage: sse_browser.py URL EXPECT_PROTO WANT_EVENTS PER_CONNECTION
  URL: the example's page; EXPECT_PROTO: http/1.1 or h2 (the page's nextHopProtocol); WANT_EVENTS: how many events
  the page's EventSource must receive; PER_CONNECTION: events the server sends before ending each stream (0: it
  never ends them).
Prints one `PASS name` / `FAIL name: detail` line per check (the caller counts them); exit 0 unless the browser
itself could not be driven.

The page (examples/mount-origin/sse-page/events.js) keeps every event it got in window.lwsEvents as {type, id, data}.
With PER_CONNECTION > 0 the server ends each stream after that many events; Chromium reconnects by itself and
sends Last-Event-ID, and the server continues after it: the ids the page saw are then consecutive from 0, across
several connections, and each event's data names its id ("counter N").
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium_cdp import Browser  # noqa: E402

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(ok)
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, detail), flush=True)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    url, proto, want, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with Browser() as b:
        for m in ("Page.enable", "Runtime.enable", "Log.enable"):
            b.call(m)
        b.navigate(url)
        nh = b.eval("performance.getEntriesByType('navigation')[0].nextHopProtocol")
        check("page-protocol-%s" % proto, nh == proto, "nextHopProtocol %r" % nh)
        events = []
        deadline = time.time() + 60
        while time.time() < deadline:
            events = b.eval("JSON.stringify(window.lwsEvents || [])")
            events = json.loads(events) if events else []
            if len(events) >= want:
                break
            time.sleep(0.2)  # polling the page's state, bounded by the deadline
        check("received-%d-events" % want, len(events) >= want, "got %d: %s" % (len(events), events[-3:]))
        stream = b.eval("(performance.getEntriesByType('resource').filter(function (e) {"
                        " return e.initiatorType === 'other' || e.name.indexOf('/sse') >= 0 ||"
                        " e.name.indexOf('/poll') >= 0; })[0] || {}).nextHopProtocol")
        if stream is not None:
            check("stream-protocol-%s" % proto, stream == proto, "event stream nextHopProtocol %r" % stream)
        if per > 0 and events:
            ids = [e.get("id") for e in events[:want]]
            check("ids-continue-across-reconnects", ids == [str(i) for i in range(len(ids))],
                  "ids %s" % ids)
            check("data-matches-id", all(e.get("data") == "counter %s" % e.get("id") for e in events[:want]),
                  "%s" % events[:want])
            check("event-type", all(e.get("type") == "counter" for e in events[:want]), "%s" % events[:want])
            check("reconnected", len(events) > per, "only %d events, %d per connection" % (len(events), per))
        status = b.eval("document.getElementById('status').textContent")
        check("page-status", status in ("open", "reconnecting"), "#status %r" % status)
        errors = [p for m, p in b.events if m == "Runtime.exceptionThrown" or
                  (m == "Log.entryAdded" and p.get("entry", {}).get("source") == "security")]
        check("no-js-errors-or-csp-violations", not errors, "%s" % errors[:3])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # report, fail
        print("sse_browser: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
