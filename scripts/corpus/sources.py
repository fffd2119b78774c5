"""Where each domain's text comes from, and how it is extracted from the installed Debian
packages. Files are found through `dpkg -L <package>`, so what else happens to be installed on
the machine does not change the corpus."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterator

import textclean as tc


@dataclass
class Doc:
    source: str  # Source.name
    key: str  # unique within the source (path, path#n)
    text: str
    group: str = ""  # documents of one group land in the same split (chunks of one file)


@dataclass
class Source:
    name: str
    packages: list[str]
    weight: float  # share of the domain budget before redistribution
    extract: Callable[[], Iterator[Doc]]
    kind: str = "prose"  # "prose" (line dedup, language checks) or "code"
    min_chars: int = 200
    line_language_filter: bool = True  # drop paragraphs that are in another language
    licence: str = ""  # as stated in /usr/share/doc/<package>/copyright
    note: str = ""  # what is extracted, for the data card
    # Added after the v2 corpus: used only when growing a corpus (build_corpus.py --base-mb),
    # so that the default build stays the corpus the bundled model's first stages saw.
    grow_only: bool = False


# --------------------------------------------------------------------------------------------
# Package file lists
# --------------------------------------------------------------------------------------------

_dpkg_cache: dict[str, list[str]] = {}


def package_files(package: str, pattern: str) -> list[str]:
    """Regular files (no symlinks) of an installed package whose path matches `pattern`,
    sorted."""
    if package not in _dpkg_cache:
        result = subprocess.run(["dpkg", "-L", package], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, check=False)
        _dpkg_cache[package] = result.stdout.split("\n") if result.returncode == 0 else []
    regex = re.compile(pattern)
    return sorted(p for p in _dpkg_cache[package]
                  if regex.search(p) and os.path.isfile(p) and not os.path.islink(p))


def read_text(path: str, fallbacks: tuple[str, ...] = ("cp1252",)) -> str:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return tc.decode_bytes(f.read(), fallbacks)


def split_long(text: str, limit: int = 12000, code: bool = False) -> list[str]:
    """Splits a document longer than `limit` characters at paragraph boundaries (for code: at
    an empty line followed by a line that is not indented), so one huge file cannot fill a
    source's budget alone."""
    if len(text) <= limit:
        return [text]
    boundary = re.compile(r"\n\n(?=\S)") if code else re.compile(r"\n\n")
    pieces, start, last = [], 0, 0
    for m in boundary.finditer(text):
        if m.start() - start > limit and last > start:
            pieces.append(text[start:last])
            start = last
        last = m.end()
    pieces.append(text[start:])
    out = []
    for piece in pieces:
        piece = piece.strip("\n")
        if len(piece) > 2 * limit and not code:  # no paragraph breaks: cut at line breaks
            lines, cur = piece.split("\n"), []
            for line in lines:
                cur.append(line)
                if sum(len(x) + 1 for x in cur) > limit:
                    out.append("\n".join(cur))
                    cur = []
            if cur:
                out.append("\n".join(cur))
        elif piece:
            out.append(piece)
    return out


def docs_from_text(source: str, key: str, text: str, code: bool = False,
                   limit: int = 12000) -> Iterator[Doc]:
    parts = split_long(text, limit=limit, code=code)
    for i, part in enumerate(parts):
        yield Doc(source, key if len(parts) == 1 else f"{key}#{i}", part, group=key)


# --------------------------------------------------------------------------------------------
# Fortunes
# --------------------------------------------------------------------------------------------


# Cookies with sexual content or profanity are left out: the model is shown in class.
# (Word starts, matched case-insensitively at a word boundary.)
_FORTUNE_BLOCKLIST = re.compile(r"(?i)\b(" + "|".join([
    # English
    r"fuck", r"shit", r"cunt", r"penis", r"vagina", r"orgasm", r"whore", r"slut", r"rape",
    r"bitch", r"dick\b", r"cock\b", r"tits?\b", r"boobs?", r"nude", r"naked", r"porn",
    r"sex\b", r"sexy", r"sexual", r"erotic", r"masturbat", r"nigg", r"fag", r"bastard",
    # German
    r"fick", r"schei(ß|ss)", r"nutte", r"hure", r"titte", r"busen", r"arsch", r"orgasmus",
    r"sexuell", r"bumsen", r"vögeln", r"schwul", r"neger", r"wichs",
    # Spanish
    r"puta", r"mierda", r"joder", r"coño", r"polla", r"culo", r"sexo", r"follar", r"cojon",
    r"maric", r"pene\b", r"teta",
    # Russian
    r"секс", r"жоп", r"поп(а|ой|у|е)\b", r"оргазм", r"сиськ", r"трах", r"бля", r"ху[йяеё]",
    r"пизд", r"еба", r"ебл", r"ёб", r"шлюх", r"задниц", r"член\b", r"голая", r"голой", r"голые",
    r"педик", r"гомик", r"проститут", r"минет", r"эрот", r"порн",
]) + ")")


def fortunes(source: str, packages: list[str], pattern: str, exclude: set[str],
             fallbacks=("cp1252",)) -> Callable[[], Iterator[Doc]]:
    def extract() -> Iterator[Doc]:
        seen = set()
        for package in packages:
            for path in package_files(package, pattern):
                base = os.path.basename(path)
                if path in seen or base.endswith((".dat", ".u8")) or base in exclude:
                    continue
                seen.add(path)
                text = read_text(path, fallbacks).replace("\r\n", "\n")
                for i, cookie in enumerate(re.split(r"(?m)^%[ \t]*$", text)):
                    cookie = cookie.strip("\n")
                    if cookie.strip() and not _FORTUNE_BLOCKLIST.search(cookie):
                        yield Doc(source, f"{path}#{i}", cookie, group=f"{path}#{i}")
    return extract


# --------------------------------------------------------------------------------------------
# Manual pages
# --------------------------------------------------------------------------------------------

# Sections that are credits, licence text, cross references or bare syntax, in the languages
# of the corpus (and English, for untranslated headings).
_MAN_DROP_SECTIONS = {
    "SEE ALSO", "AUTHOR", "AUTHORS", "REPORTING BUGS", "COPYRIGHT", "COLOPHON", "TRANSLATION",
    "SYNOPSIS", "LICENSE", "LICENCE", "HISTORY",
    "ÜBERSETZUNG", "SIEHE AUCH", "FEHLER MELDEN", "AUTOR", "AUTOREN", "KOLOPHON", "ÜBERSICHT",
    "LIZENZ", "GESCHICHTE",
    "TRADUCTION", "VOIR AUSSI", "SIGNALER DES BOGUES", "AUTEUR", "AUTEURS", "COLOPHON",
    "HISTORIQUE",
    "TRADUCCIÓN", "VÉASE TAMBIÉN", "INFORMAR DE ERRORES", "AUTORES", "COLOFÓN", "SINOPSIS",
    "MARCAS REGISTRADAS", "HISTORIA",
    "ПЕРЕВОД", "СМ. ТАКЖЕ", "АВТОР", "АВТОРЫ", "АВТОРСКИЕ ПРАВА", "ИНФОРМАЦИЯ ОБ ОШИБКАХ",
    "СИНТАКСИС", "ОБЗОР", "ИСТОРИЯ",
}


def looks_like_code(line: str) -> bool:
    stripped = line.strip()
    if stripped.startswith(("$ ", "# ", "#include", "//", "/*", "*/")):
        return True
    if stripped.endswith((";", "{", "}", ");", "\\")):
        return True
    return sum(stripped.count(c) for c in "{}();=<>[]$|&") >= 4


def clean_man(rendered: str) -> str:
    lines = rendered.split("\n")
    # Header ("LS(1)   ...   LS(1)") and footer ("GNU coreutils 9.1   2023   LS(1)") lines.
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and re.search(r"\(\w+\)\s*$", lines[0].strip()):
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and not lines[-1].startswith(" "):
        lines.pop()
    out, dropping = [], False
    for line in lines:
        if line and not line[0].isspace():  # a section heading
            heading = line.strip().upper()
            dropping = heading in _MAN_DROP_SECTIONS
            if dropping:
                continue
            out.append("")
            out.append(line.strip().capitalize() if heading == line.strip() else line.strip())
            continue
        if dropping:
            continue
        # mandoc indents body text by 7 columns; nested blocks by multiples of 7.
        if line.startswith("       "):
            line = line[7:]
        if line.startswith("   ") and looks_like_code(line):
            continue  # example programs and shell sessions are not prose
        out.append(line.rstrip())
    return "\n".join(out)


def manpages(source: str, package: str, lang: str) -> Callable[[], Iterator[Doc]]:
    def render(path: str) -> tuple[str, str]:
        return path, clean_man(tc.render_man(path))

    def extract() -> Iterator[Doc]:
        paths = package_files(package, rf"^/usr/share/man/{lang}/man\w+/.*\.gz$")
        with ThreadPoolExecutor(max_workers=2) as pool:
            for path, text in pool.map(render, paths):
                yield from docs_from_text(source, path, text)
    return extract


# --------------------------------------------------------------------------------------------
# HTML manuals
# --------------------------------------------------------------------------------------------


def html_docs(source: str, package: str, pattern: str,
              exclude: str | None = None) -> Callable[[], Iterator[Doc]]:
    def extract() -> Iterator[Doc]:
        for path in package_files(package, pattern):
            if exclude and re.search(exclude, path):
                continue
            text = tc.html_to_text(read_text(path))
            yield from docs_from_text(source, path, text)
    return extract


# --------------------------------------------------------------------------------------------
# Bibles and other books
# --------------------------------------------------------------------------------------------


def fix_jargon(text: str) -> str:
    """Cross references "{word}" become "word"; single-letter index headings go."""
    text = re.sub(r"\{([^{}\n]+)\}", r"\1", text)
    return re.sub(r"(?m)^\s*[A-Z0-9]\s*$", "", text)


def fix_dhammapada(text: str) -> str:
    """Verse numbers at the end of each verse go."""
    return re.sub(r"(?m)\s+\d{1,3}\s*$", "", text)


def kjv_bible(source: str) -> Callable[[], Iterator[Doc]]:
    """King James Version from bible-kjv-text through the `bible` program: one document per
    chapter, a title line and one verse per line (verse numbers dropped)."""
    def extract() -> Iterator[Doc]:
        out = subprocess.run(["bible", "-l10000", "gen1:1-rev22:21"], stdout=subprocess.PIPE,
                             check=True).stdout.decode("utf-8", "replace")
        title, verses = None, []
        for line in out.split("\n") + ["END 0"]:
            m = re.match(r"^(\S.*\S) (\d+)$", line)
            if m:
                if title and verses:
                    yield Doc(source, title, title + "\n\n" + "\n".join(verses), group=title)
                title, verses = line.strip(), []
                continue
            m = re.match(r"^\s+\d+ (.*)$", line)
            if m:
                verses.append(m.group(1).strip())
    return extract


def sword_bible(source: str, module: str, locale: str, key: str) -> Callable[[], Iterator[Doc]]:
    """A SWORD Bible module through diatheke: one document per chapter."""
    def extract() -> Iterator[Doc]:
        out = subprocess.run(["diatheke", "-b", module, "-l", locale, "-f", "plain", "-k", key],
                             stdout=subprocess.PIPE, check=True).stdout.decode("utf-8", "replace")
        chapter, verses = None, []
        for line in out.split("\n") + ["END 0:0: "]:
            m = re.match(r"^(.+ \d+):\d+: ?(.*)$", line)
            if not m:
                continue
            if m.group(1) != chapter:
                if chapter and verses:
                    yield Doc(source, chapter, chapter + "\n\n" + "\n".join(verses), group=chapter)
                chapter, verses = m.group(1), []
            verse = re.sub(r"<[GH]\d+>", "", m.group(2)).strip()
            if verse:
                verses.append(verse)
    return extract


def chunked_book(source: str, path: str, start: str | None = None, chunk: int = 4000,
                 fix: Callable[[str], str] | None = None) -> Callable[[], Iterator[Doc]]:
    """A long plain-text book cut into documents of about `chunk` characters at paragraph
    boundaries (hard-wrapped lines joined)."""
    def extract() -> Iterator[Doc]:
        text = read_text(path)
        if start and start in text:
            text = text[text.index(start):]
        if fix:
            text = fix(text)
        text = tc.reflow(text)
        for i, part in enumerate(split_long(text, limit=chunk)):
            yield Doc(source, f"{path}#{i}", part, group=f"{path}#{i}")
    return extract


# --------------------------------------------------------------------------------------------
# Source code
# --------------------------------------------------------------------------------------------

_LICENCE_WORDS = re.compile(
    r"copyright|licen[cs]e|warranty|redistribut|SPDX|free software|all rights reserved|"
    r"permission is hereby granted|public domain", re.I)


def strip_licence_header(text: str, comment: str) -> str:
    """Removes a leading comment block (after an optional shebang/encoding line) when it
    talks about copyright or licensing, plus any later standalone comment block that is
    mostly licence text. `comment` is "c" (/* */ and //), "hash" (#) or "slash" (//)."""
    lines = text.split("\n")
    head: list[str] = []
    while lines and (lines[0].startswith("#!") or re.match(r"#.*coding[:=]", lines[0])):
        head.append(lines.pop(0))
    while lines and not lines[0].strip():
        lines.pop(0)
    body = "\n".join(lines)

    def block_end(s: str) -> int:
        """Length of the comment block at the start of s (0 if none)."""
        if comment == "c" and s.startswith("/*"):
            end = s.find("*/")
            return end + 2 if end >= 0 else 0
        prefix = "#" if comment == "hash" else "//"
        n = 0
        for line in s.split("\n"):
            if line.lstrip().startswith(prefix) or (n and not line.strip()):
                n += len(line) + 1
            else:
                break
        return n

    # Several header blocks in a row (e.g. a licence block then a description block).
    for _ in range(4):
        n = block_end(body)
        if not n:
            break
        block = body[:n]
        if _LICENCE_WORDS.search(block):
            body = body[n:].lstrip("\n")
        else:
            break
    if comment == "c":
        # Licence comment blocks later in the file (e.g. after #ifndef guards).
        body = re.sub(r"/\*(?:(?!\*/).)*?(?:This (?:program|library|file) is free software|"
                      r"Permission is hereby granted|Licensed under)(?:(?!\*/).)*\*/\n?",
                      "", body, flags=re.S)
    return "\n".join(head + ([body] if body else []))


def code_quality_ok(text: str) -> bool:
    """Rejects generated tables, minified files and data dumps."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 5:
        return False
    if max(len(line) for line in lines) > 400:
        return False
    if sum(len(line) for line in lines) / len(lines) > 100:
        return False
    if tc.letter_ratio(text) < 0.35:
        return False
    numeric = sum(1 for line in lines if re.fullmatch(r"[\s\d,xXa-fA-F{}()\[\];.+\-/*<>=|&^~]+", line))
    return numeric / len(lines) < 0.3


_GENERATED = re.compile(r"(?i)(code generated .* do not edit|automatically generated|"
                        r"generated by |this file was generated|do not edit this file)")


def code_files(source: str, packages: list[str], pattern: str, comment: str,
               exclude: str | None = None, max_bytes: int = 400_000) -> Callable[[], Iterator[Doc]]:
    def extract() -> Iterator[Doc]:
        for package in packages:
            for path in package_files(package, pattern):
                if exclude and re.search(exclude, path):
                    continue
                if os.path.getsize(path) > max_bytes:
                    continue
                try:
                    with open(path, "rb") as f:
                        text = f.read().decode("utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                if _GENERATED.search(text[:2000]):
                    continue
                text = strip_licence_header(text.replace("\r\n", "\n"), comment)
                if not code_quality_ok(text):
                    continue
                yield from docs_from_text(source, path, text, code=True, limit=16000)
    return extract


# --------------------------------------------------------------------------------------------
# The domains
# --------------------------------------------------------------------------------------------

FORTUNE_DIR = r"^/usr/share/games/fortunes/"
# ASCII art, and the offensive collection that fortunes-off would add.
# fortunes-ru: files about sex, flirting and drinking.
FORTUNE_EXCLUDE = {"art", "ascii-art", "asciiart", "off", "translate-me",
                   "sex", "d21", "d41", "flirt", "lovers", "man_and_woman", "drink", "e0", "b0"}

DFSG_GPL2 = "GPL-2+"


def html_manual_sources(lang: str, lang_region: str, lang_html: str,
                        weights: dict[str, float]) -> list[Source]:
    """The Debian manuals that exist in several languages (HTML)."""
    all_sources = {
        "debian-handbook": Source(
            f"debian-handbook-{lang}", ["debian-handbook"], weights.get("debian-handbook", 0),
            html_docs(f"debian-handbook-{lang}", "debian-handbook",
                      rf"/html/{lang_region}/[^/]+\.html$", exclude=r"/index\.html$"),
            licence="GPL-2.0+ or CC-BY-SA-3.0",
            note=f"The Debian Administrator's Handbook, {lang_region} HTML pages, prose only "
                 "(program listings, tables, navigation dropped)"),
        "debian-reference": Source(
            f"debian-reference-{lang}", [f"debian-reference-{lang}"],
            weights.get("debian-reference", 0),
            html_docs(f"debian-reference-{lang}", f"debian-reference-{lang}",
                      rf"/usr/share/debian-reference/[^/]+\.{lang_html}\.html$",
                      exclude=r"/index\."),
            licence="GPL-2+", note="Debian Reference, HTML chapters, prose only"),
        "maint-guide": Source(
            f"maint-guide-{lang}", [f"maint-guide-{lang}" if lang != "en" else "maint-guide"],
            weights.get("maint-guide", 0),
            html_docs(f"maint-guide-{lang}", f"maint-guide-{lang}" if lang != "en" else "maint-guide",
                      rf"/html/[^/]+\.{lang_html}\.html$", exclude=r"/index\."),
            licence="GPL-2.0+ (parts MIT / public domain)",
            note="Debian New Maintainers' Guide, HTML chapters, prose only"),
        "debian-faq": Source(
            f"debian-faq-{lang}", [f"debian-faq-{lang}" if lang != "en" else "debian-faq"],
            weights.get("debian-faq", 0),
            html_docs(f"debian-faq-{lang}", f"debian-faq-{lang}" if lang != "en" else "debian-faq",
                      (rf"/FAQ/{lang}/[^/]+\.html$" if lang != "en" else r"/FAQ/[^/]+\.en\.html$"),
                      exclude=r"/index\."),
            licence="GPL-2+", note="The Debian FAQ, HTML chapters, prose only"),
        "developers-reference": Source(
            f"developers-reference-{lang}", [f"developers-reference-{lang}"],
            weights.get("developers-reference", 0),
            html_docs(f"developers-reference-{lang}", f"developers-reference-{lang}",
                      rf"/developers-reference/{lang}/[^/]+\.html$",
                      exclude=r"/(index|genindex|search|developers-reference)\.html$"),
            licence="GPL-2", note="Debian Developer's Reference, HTML chapters, prose only"),
        "aptitude-doc": Source(
            f"aptitude-doc-{lang}", [f"aptitude-doc-{lang}"], weights.get("aptitude-doc", 0),
            html_docs(f"aptitude-doc-{lang}", f"aptitude-doc-{lang}",
                      rf"/aptitude/html/{lang}/[^/]+\.html$", exclude=r"/index\.html$"),
            licence="GPL-2+", note="aptitude user's manual, HTML pages, prose only"),
    }
    return [s for k, s in all_sources.items() if k in weights]


def man_source(lang: str, weight: float, package: str = "", grow_only: bool = False) -> Source:
    package = package or f"manpages-{lang}"
    return Source(package, [package], weight, manpages(package, package, lang),
                  licence="GPL-3+ (translations); the original pages keep their own free licences",
                  note="translated manual pages rendered with mandoc -T utf8 (no hard wrapping, "
                       "overstrike removed); header/footer lines and the SYNOPSIS, SEE ALSO, "
                       "AUTHORS, COPYRIGHT, REPORTING BUGS and TRANSLATION sections dropped",
                  grow_only=grow_only)


def gimp_help_source(lang: str, weight: float, grow_only: bool = False) -> Source:
    return Source(f"gimp-help-{lang}", [f"gimp-help-{lang}", "w3m"], weight,
                  html_docs(f"gimp-help-{lang}", f"gimp-help-{lang}",
                            rf"^/usr/share/gimp/2\.0/help/{lang}/[^/]+\.html$",
                            exclude=r"/index\.html$"),
                  licence="GFDL-NIV-1.2+ (GNU FDL 1.2 or later, no invariant sections)",
                  note="GIMP 2.10 user manual, HTML pages, prose only (w3m is installed with "
                       "it only to satisfy its www-browser dependency)",
                  grow_only=grow_only)


def fortune_source(name: str, packages: list[str], subdir: str, weight: float,
                   licence: str, fallbacks=("cp1252",)) -> Source:
    return Source(name, packages, weight,
                  fortunes(name, packages, FORTUNE_DIR + subdir + r"[^/]+$", FORTUNE_EXCLUDE,
                           fallbacks),
                  min_chars=40, licence=licence,
                  note="fortune cookies split on '%' lines, one cookie per document "
                       "(ASCII-art files and translate-me excluded)")


def domains() -> dict[str, list[Source]]:
    # Which Debian manuals exist in which language (Debian 12), with their weights.
    manuals = {"debian-handbook": 3, "debian-reference": 2, "maint-guide": 1,
               "debian-faq": 1, "developers-reference": 1, "aptitude-doc": 1}

    def only(*names: str) -> dict[str, float]:
        return {k: v for k, v in manuals.items() if k in names}
    return {
        "english": [
            fortune_source("fortunes-en", ["fortunes", "fortunes-min"], "", 4,
                           "BSD-style (fortune-mod); see /usr/share/doc/fortunes/copyright"),
            Source("bible-kjv", ["bible-kjv-text", "bible-kjv"], 2, kjv_bible("bible-kjv"),
                   licence="public domain (KJV text); program GPL-2+",
                   note="King James Version, one chapter per document, verse numbers dropped"),
            Source("jargon", ["jargon-text"], 1,
                   chunked_book("jargon", "/usr/share/doc/jargon-text/jargon.txt.gz",
                                start="Chapter 1. Hacker Slang", fix=fix_jargon),
                   licence="public domain",
                   note="The Jargon File 4.4.x, reflowed, cut into ~4 KB documents"),
            Source("dhammapada", ["display-dhammapada"], 0.3,
                   chunked_book("dhammapada",
                                "/usr/share/display-dhammapada/dhammapada-alternate.txt",
                                start="Chapter 1: The Twin-Verses\n", fix=fix_dhammapada),
                   licence="public domain (Max Müller translation, Project Gutenberg text)",
                   note="The Dhammapada (F. Max Müller), cut into ~4 KB documents"),
        ] + html_manual_sources("en", "en-US", "en",
                                {"debian-handbook": 2, "debian-reference": 1, "maint-guide": 0.5,
                                 "debian-faq": 0.5}),
        "german": [
            fortune_source("fortunes-de", ["fortunes-de"], "de/", 4, "GPL-2+"),
            man_source("de", 3),
            man_source("de", 2, package="manpages-de-dev", grow_only=True),
        ] + html_manual_sources("de", "de-DE", "de", only(
            "debian-handbook", "debian-reference", "maint-guide", "debian-faq",
            "developers-reference")),
        "french": [
            man_source("fr", 4),
            gimp_help_source("fr", 4),
            man_source("fr", 3, package="manpages-fr-dev", grow_only=True),
        ] + html_manual_sources("fr", "fr-FR", "fr", manuals),
        "spanish": [
            fortune_source("fortunes-es", ["fortunes-es"], "es/", 3, "GPL-2+"),
            man_source("es", 3),
            gimp_help_source("es", 3),
            man_source("es", 2, package="manpages-es-dev", grow_only=True),
            Source("bible-rv1909", ["sword-text-sparv", "diatheke"], 2,
                   sword_bible("bible-rv1909", "spaRV1909eb", "es",
                               "Génesis 1:1-Apocalipsis 22:21"),
                   licence="public domain (Reina-Valera 1909)",
                   note="Reina-Valera 1909 via diatheke, one chapter per document, "
                        "Strong's numbers removed"),
        ] + html_manual_sources("es", "es-ES", "es", only(
            "debian-handbook", "debian-reference", "maint-guide", "aptitude-doc")),
        "russian": [
            fortune_source("fortunes-ru", ["fortunes-ru"], "ru/", 4, "GPL-2 / GPL-2+",
                           fallbacks=("koi8-r", "cp1251")),
            man_source("ru", 3),
            man_source("ru", 3, package="manpages-ru-dev", grow_only=True),
            gimp_help_source("ru", 3, grow_only=True),
        ] + html_manual_sources("ru", "ru-RU", "ru", only(
            "debian-handbook", "maint-guide", "debian-faq", "developers-reference",
            "aptitude-doc")),
        "code": code_sources(),
    }


def code_sources() -> list[Source]:
    py_exclude = (r"/(test|tests|idlelib|lib2to3|__phello__|pydoc_data|ensurepip|turtledemo)/|"
                  r"/encodings/(?!__init__|aliases|utf_8|idna|punycode)[^/]+\.py$|"
                  r"/(_pydecimal|_pyio)\.py$")
    return [
        Source("python-stdlib", ["libpython3.11-stdlib", "libpython3.11-minimal"], 9,
               code_files("python-stdlib", ["libpython3.11-stdlib", "libpython3.11-minimal"],
                          r"^/usr/lib/python3\.11/.*\.py$", "hash", exclude=py_exclude),
               kind="code", min_chars=300, licence="PSF-2 (Python Software Foundation License)",
               note="Python 3.11 standard library modules, comments and docstrings kept"),
        Source("go-src", ["golang-1.19-src", "golang-src"], 4,
               code_files("go-src", ["golang-1.19-src"], r"^/usr/share/go-1\.19/src/.*\.go$",
                          "slash", exclude=r"/(testdata|vendor)/|_test\.go$|/zz[^/]*\.go$|"
                                           r"/z[a-z]+_[a-z0-9_]+\.go$"),
               kind="code", min_chars=300, licence="BSD-3-clause (Go)",
               note="Go 1.19 standard library and tools, *_test.go, testdata, vendor and "
                    "generated files excluded"),
        Source("gnulib-c", ["gnulib"], 4,
               code_files("gnulib-c", ["gnulib"], r"^/usr/share/gnulib/lib/.*\.[ch]$", "c",
                          exclude=r"/lib/(uni[a-z]+|unictype|unicase|uninorm)/"),
               kind="code", min_chars=300, licence="LGPL-2+ / GPL-3+ (per file)",
               note="gnulib portable C library sources (lib/*.c, lib/*.h), Unicode tables "
                    "excluded"),
        Source("c-headers", ["libc6-dev"], 1,
               code_files("c-headers", ["libc6-dev"], r"^/usr/include/.*\.h$", "c"),
               kind="code", min_chars=300, licence="LGPL-2.1+ (GNU C Library)",
               note="GNU C Library public headers"),
        Source("cpp-libstdcxx", ["libstdc++-12-dev"], 2,
               code_files("cpp-libstdcxx", ["libstdc++-12-dev"], r"^/usr/include/c\+\+/12/",
                          "c", exclude=r"/(pstl|tr1|tr2|experimental|ext/pb_ds)/"),
               kind="code", min_chars=300,
               licence="GPL-3+ with the GCC Runtime Library Exception",
               note="libstdc++ 12 headers (bits/, containers, algorithms)"),
        Source("cpp-eigen", ["libeigen3-dev"], 1,
               code_files("cpp-eigen", ["libeigen3-dev"], r"^/usr/include/eigen3/Eigen/src/.*\.h$",
                          "c"),
               kind="code", min_chars=300, licence="MPL-2.0",
               note="Eigen 3 C++ template library sources"),
        Source("shell-bash-completion", ["bash-completion"], 1.5,
               code_files("shell-bash-completion", ["bash-completion"],
                          r"^/usr/share/bash-completion/(bash_completion|completions/[^/]+)$",
                          "hash"),
               kind="code", min_chars=300, licence="GPL-2+",
               note="bash-completion shell functions (bash scripts)"),
        Source("js-lodash", ["node-lodash"], 1,
               code_files("js-lodash", ["node-lodash"], r"^/usr/share/nodejs/lodash/[^/]+\.js$",
                          "c", exclude=r"/(lodash|core|lodash\.min|core\.min)\.js$"),
               kind="code", min_chars=300, licence="Expat (MIT)",
               note="lodash JavaScript modules (one function per file, JSDoc comments)"),
        Source("js-acorn", ["node-acorn"], 0.5,
               code_files("js-acorn", ["node-acorn"], r"^/usr/share/nodejs/acorn[^/]*/.*\.js$",
                          "c", exclude=r"\.min\.js$"),
               kind="code", min_chars=300, licence="Expat (MIT)",
               note="acorn JavaScript parser sources"),
    ]
