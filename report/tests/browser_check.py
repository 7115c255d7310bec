#!/usr/bin/python3
"""Opens an HTML report in headless Chromium and checks that every figure
rendered (the page's own script records it on <body>) with no script or
console error.

Usage: browser_check.py REPORT.html [--min-figures N]
Exit 0 with a one-line summary, 1 with the reason.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--min-figures", type=int, default=1)
    a = ap.parse_args()
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
    console = [l for l in r.stderr.splitlines() if "CONSOLE" in l and ("ERROR" in l or "Uncaught" in l)]
    if console:
        problems.append("console errors: " + " / ".join(console[:5]))
    if problems:
        print("browser_check: " + "; ".join(problems))
        return 1
    print(f"browser_check: {a.report}: {n} figures rendered, no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
