"""Text cleaning helpers for the moescope training corpus (python3 standard library only).

Everything here is deterministic: no randomness, no dependence on hash seeds or locale.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import unicodedata
from html.parser import HTMLParser

DOC_SEPARATOR = "<|endoftext|>"

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

# C0/C1 control characters except tab and newline; also the Unicode BOM, soft hyphen,
# zero-width characters and the replacement character left behind by bad decodes.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufeff\ufffd]")
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_OVERSTRIKE_RE = re.compile(r".\x08")
_TRAILING_WS_RE = re.compile(r"[ \t]+$", re.M)
_MANY_BLANKS_RE = re.compile(r"\n{3,}")


def strip_overstrike(text: str) -> str:
    """Removes nroff backspace overstrike (bold "X\\bX", underline "_\\bX")."""
    return _OVERSTRIKE_RE.sub("", text)


def normalize(text: str, keep_tabs: bool = False) -> str:
    """NFC, unified newlines, no ANSI escapes/control characters, no trailing blanks,
    at most one empty line in a row, no leading/trailing empty lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI_RE.sub("", text)
    text = strip_overstrike(text)
    if not keep_tabs:
        text = text.replace("\t", "    ")
    text = text.replace("\u00a0", " ").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL_RE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_WS_RE.sub("", text)
    text = _MANY_BLANKS_RE.sub("\n\n", text)
    # The separator must never occur inside a document.
    text = text.replace(DOC_SEPARATOR, "<endoftext>")
    return text.strip("\n")


def decode_bytes(data: bytes, fallbacks: tuple[str, ...] = ("cp1252",)) -> str:
    """UTF-8 when valid, otherwise the first fallback that decodes (latin-1 always does)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in fallbacks:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


_MOJIBAKE_RE = re.compile("[ÃÂ][\u0080-\u00bf]|Ð[\u0080-\u00bf]|Ñ[\u0080-\u00bf]|â€")


def mojibake_score(text: str) -> int:
    """Number of UTF-8-read-as-Latin-1 sequences (e.g. 'Ã¤' for 'ä')."""
    return len(_MOJIBAKE_RE.findall(text))


def reflow(text: str) -> str:
    """Joins hard-wrapped lines of each paragraph (paragraphs separated by empty lines).
    Lines that look like list items start a new line."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        out: list[str] = []
        for line in lines:
            if out and not re.match(r"^([-*•]|\d{1,2}[.)])\s", line):
                if out[-1].endswith("-") and not out[-1].endswith(" -") and line[:1].islower():
                    out[-1] = out[-1][:-1] + line  # hyphenated word split over two lines
                else:
                    out[-1] += " " + line
            else:
                out.append(line)
        if out:
            paragraphs.append("\n".join(out))
    return "\n\n".join(paragraphs)


# --------------------------------------------------------------------------------------------
# Character statistics and language identification
# --------------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def letter_ratio(text: str) -> float:
    """Letters / non-whitespace characters."""
    total = letters = 0
    for ch in text:
        if ch.isspace():
            continue
        total += 1
        if ch.isalpha():
            letters += 1
    return letters / total if total else 0.0


def script_ratio(text: str, script: str) -> float:
    """Share of letters that belong to `script` ("latin" or "cyrillic")."""
    letters = matching = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        o = ord(ch)
        if script == "latin":
            if o < 0x250 or 0x1E00 <= o < 0x1F00:
                matching += 1
        elif script == "cyrillic":
            if 0x400 <= o < 0x530:
                matching += 1
    return matching / letters if letters else 0.0


# Frequent function words. Words shared by several languages stay in each list: the
# distinctive ones decide. it/pt/nl are only there so that such texts are not taken for
# French or Spanish.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""the of and to is that for it with as was on are be by this which or from at an
        not have has had you your can will if they their there but all been would when we he she
        his her what who do does did into than then these those its our also were how more one
        about should may must any each other only some such so no use used using following
        shall unto him them my me i thy thee thou hath""".split()),
    "de": frozenset("""der die das und ist nicht ein eine einen einem einer eines zu den mit sich des
        auf für im dem von werden wird auch es an als oder bei wenn nach sie kann können durch wie
        aus noch nur sind dass daß diese dieser dieses diesem wurde wurden hat haben sein ich du
        wir ihr er man mehr über unter zum zur vom beim aber so kein keine keinen alle wo was
        wer gibt sollte muss müssen dann denn doch schon sehr hier dort ob""".split()),
    "fr": frozenset("""le la les de des du un une et est en pour pas que qui dans sur au aux avec ce
        cette ces il elle ils elles ne nous vous sont ou par plus mais été être avoir fait peut
        son sa ses leur leurs tout tous comme aussi lorsque quand si je tu on même entre sans
        sous chez dont où non très cela ceci celui celle doit peuvent était sera""".split()),
    "es": frozenset("""el la los las de del y en es por para con una un lo al que se no su sus más
        pero como está son fue este esta estos estas muy también cuando hay ser han sin sobre
        entre desde hasta yo tú nos le les ya o u si puede pueden debe tiene tienen otro otra
        donde porque cada todo todos ese esa eso ni""".split()),
    "ru": frozenset("""и в не на что с по как это для к из от а о у же так но он она они я мы вы ты
        был была были быть если или при только все всё уже бы то его её их еще ещё когда может
        этот эта этого этой чтобы который которые также можно будет есть нет да во со ли""".split()),
    "it": frozenset("""il di che è per non una sono della delle degli dei nel nella con anche come
        questo questa più gli lo ma essere ha hanno si alla allo dal dalla""".split()),
    "pt": frozenset("""o os de do da dos das e em um uma para com não que é por mais como mas foi ao
        pelo pela se sua seu são também você isso está""".split()),
    "nl": frozenset("""de het een en van is dat niet te op voor met zijn ook maar om als bij
        deze dit wordt worden naar door kan er hij zij wij jij""".split()),
}

_STOPWORD_LOOKUP: dict[str, tuple[str, ...]] = {}
for _lang, _words in STOPWORDS.items():
    for _w in _words:
        _STOPWORD_LOOKUP[_w] = _STOPWORD_LOOKUP.get(_w, ()) + (_lang,)


def stopword_counts(word_list: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(STOPWORDS, 0)
    for w in word_list:
        for lang in _STOPWORD_LOOKUP.get(w, ()):
            counts[lang] += 1
    return counts


def guess_language(text: str) -> tuple[str | None, float, int]:
    """(best language or None, its stop-word ratio, number of words).

    Cyrillic text is Russian here (the only Cyrillic language in the corpus); otherwise the
    language whose stop words cover the largest share of the words wins."""
    word_list = words(text)
    n = len(word_list)
    if n == 0:
        return None, 0.0, 0
    counts = stopword_counts(word_list)
    best = max(counts, key=lambda k: (counts[k], k == "en"))
    if counts[best] == 0:
        return None, 0.0, n
    return best, counts[best] / n, n


# --------------------------------------------------------------------------------------------
# Near-duplicate detection
# --------------------------------------------------------------------------------------------


def fingerprint(text: str) -> str:
    """Hash of the text reduced to lower-case letters and digits: equal for documents that
    differ only in whitespace, punctuation or case."""
    reduced = "".join(ch for ch in text.lower() if ch.isalnum())
    return hashlib.blake2b(reduced.encode("utf-8"), digest_size=16).hexdigest()


def line_key(line: str) -> str:
    reduced = "".join(ch for ch in line.lower() if ch.isalnum())
    return reduced


def sketch(word_list: list[str], k: int = 12, shingle: int = 5) -> tuple[int, ...]:
    """Bottom-k sketch of the document's word shingles: the k smallest 64-bit shingle hashes.
    Two documents with a large Jaccard overlap share most of their sketch."""
    if len(word_list) < shingle:
        return ()
    hashes = set()
    for i in range(len(word_list) - shingle + 1):
        s = " ".join(word_list[i : i + shingle]).encode("utf-8")
        hashes.add(int.from_bytes(hashlib.blake2b(s, digest_size=8).digest(), "little"))
    return tuple(sorted(hashes)[:k])


class NearDuplicateIndex:
    """Flags a document whose bottom-k sketch shares at least `threshold` hashes with a
    document seen before (an estimate of a high Jaccard similarity of the shingle sets)."""

    def __init__(self, threshold: int = 8):
        self.threshold = threshold
        self.by_hash: dict[int, list[int]] = {}
        self.count = 0

    def seen(self, sk: tuple[int, ...]) -> bool:
        if not sk:
            return False
        hits: dict[int, int] = {}
        for h in sk:
            for doc in self.by_hash.get(h, ()):
                hits[doc] = hits.get(doc, 0) + 1
        need = min(self.threshold, len(sk))
        if any(c >= need for c in hits.values()):
            return True
        doc_id = self.count
        self.count += 1
        for h in sk:
            self.by_hash.setdefault(h, []).append(doc_id)
        return False


# --------------------------------------------------------------------------------------------
# HTML to text
# --------------------------------------------------------------------------------------------

_BLOCK_TAGS = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "tr", "pre", "table",
    "blockquote", "section", "article", "ul", "ol", "dl", "hr", "br", "figure", "figcaption",
    "caption", "title", "body", "main", "header", "footer", "address", "center",
}
_SKIP_TAGS = {"head", "script", "style", "noscript", "nav", "svg", "math", "object", "iframe",
              "form", "button", "select", "textarea"}
_SKIP_CLASSES = {
    "toc", "docnav", "navheader", "navfooter", "breadcrumbs", "legalnotice", "revhistory",
    "indexterm", "index", "related", "sphinxsidebar", "footer", "header", "navigation",
    "copyright", "authorgroup", "author", "othercredit", "editor", "list-of-tables",
    "list-of-figures", "list-of-examples", "headerlink", "mediaobject", "screenshot",
    "footnotes", "sidebar-title", "titlepage-footer", "issuetrackerfooter",
}
_SKIP_IDS = {"banner", "title", "footer", "header", "navigation", "sidebar"}


class _HtmlText(HTMLParser):
    def __init__(self, keep_pre: bool, keep_tables: bool):
        super().__init__(convert_charrefs=True)
        self.keep_pre = keep_pre
        self.keep_tables = keep_tables
        self.out: list[str] = []
        self.skip_stack: list[str] = []  # tag names of open skipped elements
        self.skip_depth = 0
        self.pre_depth = 0

    def _should_skip(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in _SKIP_TAGS:
            return True
        if tag == "pre" and not self.keep_pre:
            return True
        if tag == "table" and not self.keep_tables:
            return True
        for name, value in attrs:
            if value is None:
                continue
            if name == "class" and _SKIP_CLASSES.intersection(value.split()):
                return True
            if name == "id" and value in _SKIP_IDS:
                return True
            if name == "role" and value in ("navigation", "search", "banner"):
                return True
        return False

    def handle_starttag(self, tag, attrs):
        if self.skip_depth:
            if tag == self.skip_stack[-1] and tag not in ("br", "hr", "img", "meta", "link"):
                self.skip_depth += 1
            return
        if self._should_skip(tag, attrs):
            self.skip_stack.append(tag)
            self.skip_depth = 1
            return
        if tag in _BLOCK_TAGS:
            self.out.append("\n\n" if tag in ("p", "pre", "h1", "h2", "h3", "h4", "table", "dl",
                                                "ul", "ol", "blockquote") else "\n")
        if tag == "li":
            self.out.append("- ")
        if tag in ("td", "th"):
            self.out.append(" ")
        if tag == "pre":
            self.pre_depth += 1
        if tag == "sup":
            self.out.append("^")  # 2<sup>64</sup> -> 2^64
        if tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not alt.lower().endswith((".png", ".jpg", ".svg", ".gif")):
                self.out.append(alt)

    def handle_startendtag(self, tag, attrs):
        if self.skip_depth:
            return
        if tag in ("br", "hr"):
            self.out.append("\n")

    def handle_endtag(self, tag):
        if self.skip_depth:
            if tag == self.skip_stack[-1]:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_stack.pop()
            return
        if tag == "pre" and self.pre_depth:
            self.pre_depth -= 1
        if tag in _BLOCK_TAGS:
            self.out.append("\n\n" if tag in ("p", "pre", "h1", "h2", "h3", "h4", "table") else "\n")

    def handle_data(self, data):
        if self.skip_depth:
            return
        if self.pre_depth:
            self.out.append("\x00PRE" + data.replace("\n", "\x00NL") + "\x00END")
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str, keep_pre: bool = False, keep_tables: bool = False) -> str:
    """Plain text of an HTML/XHTML page: navigation, tables of contents, legal notices,
    scripts and (by default) preformatted blocks and tables are dropped; block elements
    become line breaks; whitespace is collapsed outside <pre>."""
    parser = _HtmlText(keep_pre=keep_pre, keep_tables=keep_tables)
    parser.feed(markup)
    parser.close()
    text = "".join(parser.out)
    # Collapse whitespace around line breaks, then restore preformatted text verbatim.
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"\x00PRE(.*?)\x00END", lambda m: m.group(1).replace("\x00NL", "\n"), text,
                  flags=re.S)
    lines = [line.strip() if not line.startswith(" ") else line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    # "<li><p>text</p></li>" gives "-" on its own line followed by the paragraph.
    text = re.sub(r"(?m)^- *\n+(?=\S)", "- ", text)
    return re.sub(r"\n{3,}", "\n\n", text)


# --------------------------------------------------------------------------------------------
# Manual pages
# --------------------------------------------------------------------------------------------


def render_man(path: str, width: int = 999) -> str:
    """Renders a (possibly gzip-compressed) man page with mandoc to plain UTF-8 text, one line
    per paragraph (no hard wrapping), without backspace overstrike."""
    result = subprocess.run(
        ["mandoc", "-T", "utf8", "-O", f"width={width}", path],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False,
    )
    return strip_overstrike(decode_bytes(result.stdout))
