#!/usr/bin/python3
"""Opens an HTML report in headless Chromium and checks that every figure
rendered (the page's own script records it on <body>) with no script or
console error.

Usage: browser_check.py REPORT.html [--min-figures N] [--self-test]
Exit 0 with a one-line summary, 1 with the reason. --self-test also checks
that broken copies of the page (a script error, a console.error, an outside
image, a figure that draws nothing) fail.
"""
import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile


def browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def check(report, min_figures):
    """Returns (ok, message)."""
    import io
    import contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = run_check(report, min_figures)
    return rc == 0, buf.getvalue().strip()


def self_test(report, min_figures):
    ok, msg = check(report, min_figures)
    if not ok:
        print(msg)
        return 1
    page = open(report, encoding="utf-8").read()
    broken = {
        "script error": page.replace("</body>", "<script>undefined_function();</script></body>"),
        "console.error": page.replace("</body>", "<script>console.error('boom');</script></body>"),
        "outside image": page.replace("</body>", '<img src="http://127.0.0.1:9/x.png"></body>'),
        "empty figure": page.replace("</body>", '<svg class="figure" data-figure="empty" width="10" height="10"></svg></body>'),
    }
    with tempfile.TemporaryDirectory() as d:
        for what, text in broken.items():
            path = os.path.join(d, "broken.html")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            bad_ok, bad_msg = check(path, min_figures)
            if bad_ok:
                print(f"browser_check: --self-test: a page with {what} passed")
                return 1
    print(f"{msg}; {len(broken)} broken copies fail")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--min-figures", type=int, default=1)
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return self_test(a.report, a.min_figures)
    return run_check(a.report, a.min_figures)


def run_check(report, min_figures):
    class A:
        pass
    a = A()
    a.report, a.min_figures = report, min_figures
    if not os.path.isfile(a.report):
        print(f"browser_check: {a.report}: no such file")
        return 1
    exe = browser()
    if not exe:
        print("browser_check: chromium is not installed (scripts/setup.sh --test installs Debian's chromium)")
        return 1
    url = "file://" + os.path.abspath(a.report)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
               "--dump-dom", url]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            print("browser_check: chromium did not finish in 120 s")
            return 1
    if r.returncode != 0:
        print(f"browser_check: chromium exited {r.returncode}: {r.stderr[-2000:]}")
        return 1
    m = re.search(r"<body([^>]*)>", r.stdout)
    if not m:
        print("browser_check: no <body> in the dumped DOM")
        return 1
    attrs = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', m.group(1))}
    if "data-figures" not in attrs:
        print("browser_check: the page's check did not run (no data-figures on <body>)")
        return 1
    n, ok = int(attrs["data-figures"]), int(attrs.get("data-figures-ok", "0"))
    problems = []
    if attrs.get("data-errors"):
        problems.append(f"script errors: {attrs['data-errors']}")
    if ok != n:
        problems.append(f"{n - ok} of {n} figures did not render: {attrs.get('data-figures-bad', '')}")
    if n < a.min_figures:
        problems.append(f"{n} figures, expected at least {a.min_figures}")
    # headless Chromium logs console messages as INFO:CONSOLE whatever their level; the page itself
    # records console.error, script errors and failed loads in data-errors (checked above)
    console = [l for l in r.stderr.splitlines() if "CONSOLE" in l and ("ERROR" in l or "Uncaught" in l or "console.error" in l)]
    if console:
        problems.append("console errors: " + " / ".join(console[:5]))
    if problems:
        print("browser_check: " + "; ".join(problems))
        return 1
    print(f"browser_check: {a.report}: {n} figures rendered, no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
