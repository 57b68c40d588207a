#!/usr/bin/env python3
# usage: autobahn_report.py REPORT_DIR AGENT LABEL [EXPECTED_CASES]
#   Reads REPORT_DIR/index.json written by Autobahn|Testsuite (fuzzingclient or fuzzingserver) for AGENT.
#   Prints the behavior/behaviorClose counts as comments ("# ..."), one "FAIL LABEL CASE: ..." line per failing
#   case (with the case's description and what Autobahn observed, from the per-case JSON report), and as the last
#   line "RESULT <passed> <failed>" for the calling script to add up. Exit status 0 if nothing failed.
#   Pass = behavior OK/NON-STRICT/INFORMATIONAL and behaviorClose OK/INFORMATIONAL (UNIMPLEMENTED fails).
#   EXPECTED_CASES: if the report has fewer cases than that (wstest timed out or died), the missing ones fail.
import collections
import json
import os
import sys

OK_BEHAVIOR = {"OK", "NON-STRICT", "INFORMATIONAL"}
OK_CLOSE = {"OK", "INFORMATIONAL"}


def case_key(cid):
    return tuple(int(x) if x.isdigit() else x for x in cid.split("."))


def one_line(s, limit):
    s = " ".join(str(s).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def events(evs, limit):
    """Autobahn event list [["pong", "payload"], ["message", "abc", false], ...] -> short text"""
    out = []
    for e in evs or []:
        if isinstance(e, list) and e:
            kind = str(e[0])
            payload = e[1] if len(e) > 1 else ""
            if isinstance(payload, str) and len(payload) > 24:
                payload = "%s...(%d bytes)" % (payload[:16], len(payload))
            out.append("%s %r" % (kind, payload) if len(e) > 1 else kind)
        else:
            out.append(str(e))
    return one_line("[" + ", ".join(out) + "]", limit)


def ext_header(http, name):
    for line in (http or "").split("\r\n"):
        k, _, v = line.partition(":")
        if k.strip().lower() == name:
            return v.strip()
    return None


def detail(d, cid, c):
    """description + what Autobahn observed for one case, from its own JSON report file"""
    rf = c.get("reportfile")
    info = {}
    if rf:
        try:
            with open(os.path.join(d, rf)) as f:
                info = json.load(f)
        except (OSError, ValueError):
            info = {}
    desc = info.get("description", "")
    desc = desc.split("<")[0] if desc else ""
    parts = ["%s/%s" % (c.get("behavior"), c.get("behaviorClose"))]
    if desc:
        parts.append(one_line(desc, 150))
    b = info.get("behavior")
    if b == "UNIMPLEMENTED":
        offer = ext_header(info.get("httpRequest"), "sec-websocket-extensions")
        answer = ext_header(info.get("httpResponse"), "sec-websocket-extensions")
        if offer is not None:
            parts.append("offered %r, answered %s" % (one_line(offer, 90),
                                                       repr(answer) if answer is not None else "no extension"))
        else:
            parts.append(one_line(info.get("result", ""), 160))
    elif b not in OK_BEHAVIOR:
        if any((info.get("expected") or {}).values()) or info.get("received"):
            exp = info.get("expected") or {}
            parts.append("expected %s" % " or ".join(
                "%s: %s" % (k, events(v, 160)) for k, v in sorted(exp.items())) if exp else "expected nothing")
            parts.append("received %s" % events(info.get("received"), 200))
        if info.get("result"):
            parts.append(one_line(info["result"], 160))
    if info.get("behaviorClose") not in OK_CLOSE:
        if info.get("resultClose"):
            parts.append("close: " + one_line(info["resultClose"], 200))
        parts.append("peer close %s %r, expected %s" % (info.get("remoteCloseCode"), info.get("remoteCloseReason"),
                                                       one_line(json.dumps(info.get("expectedClose")), 120)))
    return " | ".join(parts)


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(open(__file__).read().split("\nimport", 1)[0] + "\n")
        return 2
    d, agent, label = sys.argv[1:4]
    expected = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    path = os.path.join(d, "index.json")
    try:
        with open(path) as f:
            idx = json.load(f)
    except (OSError, ValueError) as e:
        print("FAIL %s: no usable %s (%s)" % (label, path, e))
        print("RESULT 0 %d" % max(expected, 1))
        return 1
    cases = idx.get(agent)
    if cases is None:
        print("FAIL %s: agent %r not in %s (have: %s)" % (label, agent, path, ", ".join(sorted(idx))))
        print("RESULT 0 %d" % max(expected, 1))
        return 1
    beh = collections.Counter(c.get("behavior") for c in cases.values())
    clo = collections.Counter(c.get("behaviorClose") for c in cases.values())
    dur = sum(c.get("duration", 0) for c in cases.values())
    failing = sorted((cid for cid, c in cases.items()
                      if c.get("behavior") not in OK_BEHAVIOR or c.get("behaviorClose") not in OK_CLOSE),
                     key=case_key)
    print("# %s: agent %s, %d cases (sum of case durations %.1f s)" % (label, agent, len(cases), dur / 1000.0))
    print("# %s behavior:      %s" % (label, "  ".join("%s=%d" % kv for kv in sorted(beh.items()))))
    print("# %s behaviorClose: %s" % (label, "  ".join("%s=%d" % kv for kv in sorted(clo.items()))))
    if failing:
        groups = collections.Counter(cid.split(".")[0] for cid in failing)
        print("# %s failing by group: %s" % (label, "  ".join(
            "%s.*=%d" % (g, n) for g, n in sorted(groups.items(), key=lambda kv: int(kv[0])))))
    for cid in failing:
        print("FAIL %s %s: %s" % (label, cid, detail(d, cid, cases[cid])))
    if failing:
        print("# %s: per-case JSON/HTML reports in %s" % (label, d))
    n_fail = len(failing)
    n_pass = len(cases) - n_fail
    if expected and len(cases) < expected:
        print("FAIL %s: only %d of %d cases in the report (wstest timed out or died?)" % (
            label, len(cases), expected))
        n_fail += expected - len(cases)
    print("RESULT %d %d" % (n_pass, n_fail))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
