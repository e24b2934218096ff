#!/usr/bin/env python3
"""Checks a tamper HTML report in a real browser (headless Chromium) and screenshots it.

Usage:

    scripts/html-check.py REPORT.html SCREENSHOT.png [--expect TEXT]... [--min-svgs N]
                          [--chromium PATH] [--width PX] [--timeout SECONDS]

The page is loaded from a file:// URL, and the check fails (exit status 1, one line per
problem on standard error) when:

  - the browser logs any console error or warning, or the page raises an error (a
    Content-Security-Policy violation shows up here);
  - the page requests anything other than itself and data: URLs;
  - the page's visible text lacks a string given with --expect (repeatable);
  - an <svg> element renders with zero width or height, or there are fewer than
    --min-svgs of them.

The full-page screenshot (PNG) is written in any case, so a failure can be looked at.
Exit status 0 means every check passed; 2 means the check could not run (no browser, no
playwright, unreadable file).

Requirements: Python 3.9+, the `playwright` package from PyPI (`pip install playwright`)
and a Chromium binary. `playwright install` is not needed: the script drives the system
Chromium (Debian: `apt-get install chromium`), found with --chromium, the CHROMIUM
environment variable, or on PATH as chromium / chromium-browser / google-chrome.

Example:

    cargo run -- analyze --format html -o /tmp/r.html \
        fixtures/rst/gfw-rst-burst-after-http-host-at-client.pcap
    scripts/html-check.py /tmp/r.html /tmp/r.png --expect tcp_rst_injected
"""

import argparse
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote


def find_chromium(explicit):
    candidates = [explicit, os.environ.get("CHROMIUM")]
    candidates += [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    return None


def main():
    ap = argparse.ArgumentParser(
        description="Check a tamper HTML report in headless Chromium and screenshot it.")
    ap.add_argument("html", help="the HTML report to check")
    ap.add_argument("screenshot", help="where to write the full-page PNG screenshot")
    ap.add_argument("--expect", action="append", default=[], metavar="TEXT",
                    help="text the rendered page must contain (repeatable)")
    ap.add_argument("--min-svgs", type=int, default=0, metavar="N",
                    help="fail unless the page has at least N <svg> pictures")
    ap.add_argument("--chromium", help="path of the Chromium binary")
    ap.add_argument("--width", type=int, default=1100, help="viewport width in CSS pixels")
    ap.add_argument("--timeout", type=float, default=60.0, help="page load timeout, seconds")
    args = ap.parse_args()

    page_path = Path(args.html).resolve()
    if not page_path.is_file():
        print(f"html-check: {args.html}: no such file", file=sys.stderr)
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("html-check: the playwright package is missing: pip install playwright "
              "(no `playwright install` needed; the system Chromium is used)", file=sys.stderr)
        return 2
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("html-check: no Chromium found: apt-get install chromium, or pass --chromium "
              "PATH / set CHROMIUM", file=sys.stderr)
        return 2

    url = page_path.as_uri()
    problems = []
    with sync_playwright() as p:
        # --no-sandbox: the check often runs as root in a container, where Chromium's sandbox
        # cannot start; the page is our own output and has no script.
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": args.width, "height": 900})

            def on_console(msg):
                if msg.type in ("error", "warning"):
                    problems.append(f"console {msg.type}: {msg.text}")

            def on_request(req):
                u = req.url
                if unquote(u.split("#", 1)[0]) != unquote(url) and not u.startswith("data:"):
                    problems.append(f"request for something other than the page: {u}")

            page.on("console", on_console)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("request", on_request)
            page.goto(url, wait_until="load", timeout=args.timeout * 1000)

            text = page.inner_text("body")
            for want in args.expect:
                if want not in text:
                    problems.append(f"the page's text lacks {want!r}")

            sizes = page.evaluate(
                "() => Array.from(document.querySelectorAll('svg')).map(s => {"
                " const r = s.getBoundingClientRect();"
                " return [r.width, r.height,"
                " (s.querySelector('title') || {}).textContent || ''] })")
            for i, (w, h, title) in enumerate(sizes):
                if w <= 0 or h <= 0:
                    problems.append(f"<svg> #{i + 1} ({title!r}) renders with size {w}x{h}")
            if len(sizes) < args.min_svgs:
                problems.append(f"{len(sizes)} <svg> pictures, expected at least {args.min_svgs}")

            page.screenshot(path=args.screenshot, full_page=True)
        finally:
            browser.close()

    for pr in problems:
        print(f"html-check: {args.html}: {pr}", file=sys.stderr)
    if problems:
        print(f"html-check: FAILED ({len(problems)} problem{'s' if len(problems) != 1 else ''}); "
              f"screenshot in {args.screenshot}", file=sys.stderr)
        return 1
    print(f"html-check: {args.html}: ok ({len(sizes)} pictures, {len(args.expect)} expected "
          f"strings found); screenshot in {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
