#!/usr/bin/env python3
"""Checks what mdBook does not: run by scripts/docs after `mdbook build`.

- Every `nginx` or `yaml` fenced block of a page is one `{{#include …}}` of a complete file, so
  that the examples the book shows are files a test can run.
- Every `{{#include path}}` names a file that exists, and its `:anchor` or line range exists in
  it. (mdBook only logs a missing file, and shows an unknown anchor as an empty block.)
- Every internal link and `#anchor` of the generated HTML leads somewhere.
- README.md: its links to files exist, its links into docs/ reach a page of the book and an
  anchor that the page has, and it shows no `nginx`/`yaml` block.

Prints one line per problem and exits 1 if there is any. Python 3 standard library only.
"""

import argparse
import os
import re
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

# Blocks that must come from files; `yml` is the same language under another name.
INCLUDED_LANGUAGES = {"nginx", "yaml", "yml"}
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)")
INCLUDE = re.compile(r"\{\{#include\s+([^}\s]+)\s*\}\}")
ONLY_INCLUDE = re.compile(r"^\s*\{\{#include\s+[^}\s]+\s*\}\}\s*$")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# Pages of the theme that repeat the others (print.html) or are not pages (404, toc).
SKIPPED_HTML = {"print.html", "404.html", "toc.html"}


def fenced_blocks(lines):
    """(language, first line number, body lines) of each fenced block."""
    blocks = []
    open_fence = None
    for number, line in enumerate(lines, 1):
        match = FENCE.match(line)
        if open_fence is None:
            if match:
                open_fence = (match.group(2), match.group(3).lower(), number, [])
        elif match and match.group(2).startswith(open_fence[0]) and not match.group(3):
            blocks.append(open_fence[1:])
            open_fence = None
        else:
            open_fence[3].append(line)
    if open_fence is not None:
        blocks.append(open_fence[1:])
    return blocks


def line_range_problem(spec, count):
    """Why a `start:end` (or `line`) spec does not fit a file of `count` lines, or None."""
    parts = spec.split(":")
    try:
        numbers = [int(p) if p else None for p in parts]
    except ValueError:
        return None
    if len(numbers) > 2:
        return f"`{spec}` is neither an anchor nor a line range"
    start = numbers[0] or 1
    end = numbers[-1] if numbers[-1] is not None else count
    if start > count or end > count or start > end:
        return f"lines `{spec}` are not within its {count} lines"
    return ""


def include_problem(page_dir, target):
    """Why `{{#include target}}` from a page in page_dir shows nothing useful, or None."""
    path, _, spec = target.partition(":")
    file = os.path.normpath(os.path.join(page_dir, path))
    if not os.path.isfile(file):
        return f"includes `{path}`, which does not exist"
    if not spec:
        return None
    with open(file, encoding="utf-8") as handle:
        text = handle.read()
    ranged = line_range_problem(spec, len(text.splitlines()))
    if ranged is not None:
        return ranged or None
    starts = re.search(rf"ANCHOR:\s*{re.escape(spec)}\b", text)
    ends = re.search(rf"ANCHOR_END:\s*{re.escape(spec)}\b", text)
    if not starts or not ends:
        return f"includes anchor `{spec}` of `{path}`, which has no ANCHOR/ANCHOR_END pair of that name"
    return None


def check_page(path, problems):
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    page_dir = os.path.dirname(path)
    for language, first, body in fenced_blocks(lines):
        if language in INCLUDED_LANGUAGES:
            content = [line for line in body if line.strip()]
            if len(content) != 1 or not ONLY_INCLUDE.match(content[0]):
                problems.append(
                    f"{path}:{first}: a `{language}` block must be one {{{{#include …}}}} of a "
                    "complete file under docs/examples/ (or another file a test runs)"
                )
    for number, line in enumerate(lines, 1):
        for target in INCLUDE.findall(line):
            why = include_problem(page_dir, target)
            if why:
                problems.append(f"{path}:{number}: {why}")


class Anchors(HTMLParser):
    """The ids and the link targets of one HTML file."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href") is not None:
            self.links.append(attrs["href"])

    def handle_data(self, data):
        self.text.append(data)


class Site:
    """The generated book: parses each HTML file once."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.parsed = {}

    def page(self, file):
        if file not in self.parsed:
            parser = Anchors()
            with open(file, encoding="utf-8") as handle:
                parser.feed(handle.read())
            self.parsed[file] = parser
        return self.parsed[file]

    def target_problem(self, base_dir, href):
        """Why a relative href from a file in base_dir leads nowhere, or None."""
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("/"):
            return None  # another site, or the site root: not the book's to check
        if parts.path:
            file = os.path.realpath(os.path.join(base_dir, unquote(parts.path)))
            if os.path.isdir(file):
                file = os.path.join(file, "index.html")
        else:
            file = None
        if file is not None:
            if not (file == self.root or file.startswith(self.root + os.sep)):
                return f"`{href}` leads out of the book"
            if not os.path.isfile(file):
                return f"`{href}`: no such file in the book"
        if parts.fragment:
            if file is None:
                return "same-page"  # resolved by the caller, which knows the page
            if not file.endswith(".html"):
                return f"`{href}`: an anchor into a file that is not a page"
            if unquote(parts.fragment) not in self.page(file).ids:
                return f"`{href}`: the page has no anchor `{parts.fragment}`"
        return None


def check_html(root, problems):
    site = Site(root)
    for directory, _, files in os.walk(site.root):
        for name in sorted(files):
            if not name.endswith(".html") or name in SKIPPED_HTML:
                continue
            file = os.path.join(directory, name)
            page = site.page(file)
            shown = os.path.relpath(file, site.root)
            if "{{#include" in "".join(page.text):
                problems.append(f"{shown}: an include was not replaced (see mdbook's errors)")
            for href in page.links:
                why = site.target_problem(directory, href)
                if why == "same-page":
                    fragment = unquote(urlsplit(href).fragment)
                    why = None if fragment in page.ids else f"`{href}`: no such anchor on the page"
                if why:
                    problems.append(f"{shown}: broken link {why}")
    return site


def check_readme(readme, docs, site, problems):
    """README links: files exist; links into docs/ reach a built page and its anchor."""
    with open(readme, encoding="utf-8") as handle:
        text = handle.read()
    lines = text.splitlines()
    for language, first, _ in fenced_blocks(lines):
        if language in INCLUDED_LANGUAGES:
            problems.append(
                f"{readme}:{first}: README.md shows no `{language}` block; link to the book instead"
            )
    base = os.path.dirname(os.path.abspath(readme))
    docs = os.path.abspath(docs)
    for number, line in enumerate(lines, 1):
        for href in MARKDOWN_LINK.findall(line):
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                continue
            if not parts.path:
                continue  # a README-internal anchor; GitHub renders those
            file = os.path.abspath(os.path.join(base, unquote(parts.path)))
            if not os.path.exists(file):
                problems.append(f"{readme}:{number}: `{href}`: no such file")
                continue
            inside_docs = file.startswith(docs + os.sep)
            if not inside_docs or not file.endswith(".md"):
                if parts.fragment:
                    problems.append(f"{readme}:{number}: `{href}`: anchors are only checked into book pages")
                continue
            page = os.path.join(site.root, os.path.relpath(file, docs)[: -len(".md")] + ".html")
            if not os.path.isfile(page):
                problems.append(f"{readme}:{number}: `{href}` is not a page of the book (not in SUMMARY.md)")
            elif parts.fragment and unquote(parts.fragment) not in site.page(page).ids:
                problems.append(f"{readme}:{number}: `{href}`: the page has no anchor `{parts.fragment}`")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True, help="the book's source directory")
    parser.add_argument("--html", required=True, help="the directory mdbook built")
    parser.add_argument("--readme", required=True, help="README.md")
    args = parser.parse_args()

    problems = []
    for name in sorted(os.listdir(args.docs)):
        if name.endswith(".md"):
            check_page(os.path.join(args.docs, name), problems)
    site = check_html(args.html, problems)
    check_readme(args.readme, args.docs, site, problems)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in the book or README.md", file=sys.stderr)
        return 1
    print("book and README.md: every include, link and anchor resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
