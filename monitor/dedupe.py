"""Duplicate detection: canonical URLs (exact) and SimHash fingerprints (near duplicates).

Repeated polls of the same post are caught in the store by (platform, external_id) and by
`canonical_url`; copies of the same claim under different ids (retweets, syndicated articles,
copy-pasted posts) are caught by `NearDuplicateIndex` over `content_fingerprint`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Hashable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Generic, TypeVar
from urllib.parse import (
    parse_qsl,
    quote,
    unquote_to_bytes,
    urlencode,
    urlsplit,
    urlunsplit,
)

import numpy as np

from monitor.matching import normalise

__all__ = [
    "NearDuplicateIndex",
    "canonical_url",
    "content_fingerprint",
    "fingerprint_distance",
]

# --- canonical URLs --------------------------------------------------------------------------

# Parameters that say how a visitor arrived, never which content they see.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "mc_cid", "mc_eid", "igshid", "igsh", "ref", "ref_src", "ref_url", "_ga", "_gl",
        "spm", "cmpid", "ocid",
    }
)  # fmt: skip
# Code hosts use ?ref= for a branch or tag, which does select content.
_REF_IS_CONTENT = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")
# Per-platform share/position parameters (the content is the same post or video).
_PLATFORM_PARAMS: dict[str, frozenset[str]] = {
    "x.com": frozenset({"s", "t", "src", "cxt"}),
    "www.youtube.com": frozenset({"si", "t", "feature", "pp", "ab_channel"}),
    "open.spotify.com": frozenset({"si", "context"}),
    "www.instagram.com": frozenset({"img_index"}),
    "www.reddit.com": frozenset({"share_id", "context", "rdt"}),
    "www.tiktok.com": frozenset({"is_from_webapp", "sender_device", "_r", "_t"}),
    "www.linkedin.com": frozenset({"trk", "trackingid", "lipi", "rcm"}),
}
# Alternative hosts of one platform (mobile, old, no-www) -> the host the platform links to.
_PLATFORM_HOST_VARIANTS: dict[str, tuple[str, ...]] = {
    "x.com": ("twitter.com", "www.twitter.com", "mobile.twitter.com", "m.twitter.com",
              "www.x.com", "mobile.x.com", "m.x.com"),
    "www.youtube.com": ("youtube.com", "m.youtube.com", "mobile.youtube.com",
                        "music.youtube.com"),
    "www.facebook.com": ("facebook.com", "m.facebook.com", "mobile.facebook.com",
                         "mbasic.facebook.com", "web.facebook.com", "touch.facebook.com"),
    "www.reddit.com": ("reddit.com", "old.reddit.com", "new.reddit.com", "np.reddit.com",
                       "m.reddit.com", "i.reddit.com", "amp.reddit.com"),
    "www.instagram.com": ("instagram.com", "m.instagram.com"),
    "www.tiktok.com": ("tiktok.com", "m.tiktok.com"),
    "www.linkedin.com": ("linkedin.com", "m.linkedin.com", "mobile.linkedin.com"),
}
_PLATFORM_HOSTS = {
    variant: host for host, variants in _PLATFORM_HOST_VARIANTS.items() for variant in variants
}
_WIKI_MOBILE = re.compile(r"^([a-z0-9-]+)\.m\.(wikipedia|wiktionary|wikinews|wikiquote)\.org$")
_GOOGLE_HOST = re.compile(r"^(?:www\.)?google\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2})$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left unescaped in a path: RFC 3986 unreserved plus sub-delims, ":" and "@".
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
_ENCODED_SLASH = re.compile("(%2[fF])")
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/!$&'()*+,;=:@._~-]*")
_MAX_UNWRAP = 3


def _redirect_target(host: str, path: str, params: list[tuple[str, str]]) -> str | None:
    """The destination of a known redirector link (Google, Facebook, YouTube)."""
    wanted: tuple[str, ...] = ()
    if _GOOGLE_HOST.match(host) and path == "/url":
        wanted = ("url", "q")
    elif host in ("l.facebook.com", "lm.facebook.com") and path == "/l.php":
        wanted = ("u",)
    elif host in ("www.youtube.com", "youtube.com", "m.youtube.com") and path == "/redirect":
        wanted = ("q",)
    for name in wanted:
        for key, value in params:
            if key == name and value.lower().startswith(("http://", "https://")):
                return value
    return None


def _normalise_path(path: str) -> str:
    """One spelling per path: escapes decoded where unneeded and added where needed."""
    if not path:
        return "/"
    if _PLAIN_PATH.fullmatch(path):
        return path.rstrip("/") or "/"  # nothing to escape or unescape: the common case
    # An escaped "/" is data inside a segment, not a separator: keep it escaped.
    parts = _ENCODED_SLASH.split(path)
    out = "".join(
        "%2F" if i % 2 else quote(unquote_to_bytes(part), safe=_PATH_SAFE)
        for i, part in enumerate(parts)
    )
    if len(out) > 1 and out.endswith("/"):
        out = out.rstrip("/") or "/"
    return out


def _drop_param(key: str, host: str) -> bool:
    lowered = key.lower()
    if lowered.startswith("utm_"):
        return True
    if lowered in _TRACKING_PARAMS:
        code_host = any(host == h or host.endswith("." + h) for h in _REF_IS_CONTENT)
        return not (lowered == "ref" and code_host)
    return lowered in _PLATFORM_PARAMS.get(host, frozenset())


def _canonical_host(hostname: str) -> str | None:
    host = hostname.rstrip(".")
    if not host or any(c.isspace() for c in host):
        return None
    try:
        # One spelling for international names: "bücher.example" and "xn--bcher-kva.example".
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    host = host.lower()
    wiki = _WIKI_MOBILE.match(host)
    if wiki:
        return f"{wiki.group(1)}.{wiki.group(2)}.org"
    return _PLATFORM_HOSTS.get(host, host)


def _canonical(url: str, depth: int) -> str | None:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = _canonical_host(parts.hostname)
    if host is None:
        return None
    port = parts.port  # ValueError for a non-numeric or out-of-range port
    params = parse_qsl(parts.query, keep_blank_values=True) if parts.query else []
    if depth < _MAX_UNWRAP:
        target = _redirect_target(host, parts.path, params)
        if target is not None:
            return _canonical(target, depth + 1)
    path = parts.path
    if host == "youtu.be" and path.strip("/"):
        # youtu.be/ID and youtube.com/shorts/ID are the watch page of video ID.
        params.append(("v", path.strip("/").split("/")[0]))
        host, path = "www.youtube.com", "/watch"
    elif host == "www.youtube.com" and path.startswith("/shorts/") and path[8:].strip("/"):
        params.append(("v", path[8:].strip("/").split("/")[0]))
        path = "/watch"
    kept = [(k, v) for k, v in params if not _drop_param(k, host)]
    # Stable sort by name only: the order of repeated names (a=1&a=2) can carry meaning.
    kept.sort(key=lambda kv: kv[0])
    query = urlencode(kept) if kept else ""
    netloc = f"[{host}]" if ":" in host else host  # IPv6 literal
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    # Credentials in a URL are dropped: they are never part of the content's identity.
    return urlunsplit((scheme, netloc, _normalise_path(path), query, ""))


def canonical_url(url: str | None) -> str | None:
    """One spelling of a web address for exact dedupe; None when it is not an http(s) URL.

    Lower-cases scheme and host, drops default ports, credentials, fragments and tracking
    parameters, sorts the remaining query, trims a trailing slash, unwraps Google/Facebook
    redirect links and folds mobile/alternate hosts of known platforms (twitter.com -> x.com).
    Never raises.
    """
    if not isinstance(url, str) or not url.strip():
        return None
    try:
        return _canonical(url, 0)
    except (ValueError, UnicodeError):
        return None


# --- near duplicates -------------------------------------------------------------------------
#
# The fingerprint is a b-bit MinHash of the text's set of normalised words: 16 slots of 4 bits.
# Slot i holds 4 bits of the word that comes first under slot i's ordering of all words, so two
# texts agree in a slot with probability J + (1 - J) / 16, J being the Jaccard similarity of
# their word sets; "distance" counts the slots that differ. A 64-bit SimHash of word 3-shingles
# was tried first and dropped: on tweet-length texts one replaced word moved it by a median of
# 11 bits, so "Hamming distance <= 3" found only 2% of one-word edits. This signature, measured
# on 3,000 tweets with benchmarks/bench_matching.py --corpus: one word replaced 98% found, two
# words replaced 91%, "RT @x: ... <link>" 100%, and 0 of 214,786 unrelated pairs within 3.

_RETWEET_PREFIX = re.compile(r"^\s*rt\s+@\w+:?\s*", re.IGNORECASE)
# Links and @handles differ between copies of one claim; they are not its content.
_NOT_CONTENT = re.compile(r"https?://\S+|www\.\S+|(?<!\w)@\w+", re.IGNORECASE)
_WORDS = re.compile(r"\w+")
# Chinese/Japanese/Korean runs become character bigrams: no spaces mark their words, and
# single characters (common kana, particles) say too little about the content.
_CJK_CHARS = (
    "\u1100-\u11ff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7ff\uf900-\ufaff"
)
_CJK_RUN = re.compile(f"([{_CJK_CHARS}]+)")
_HAS_CJK = re.compile(f"[{_CJK_CHARS}]")
SLOTS = 16
SLOT_BITS = 4  # fingerprint_distance folds exactly 4 bits per slot
# Slot i of a fingerprint is bits 4i..4i+3 of the hash of the word that won slot i.
_SLOT_MASKS = np.array(
    [((1 << SLOT_BITS) - 1) << (SLOT_BITS * i) for i in range(SLOTS)], dtype=np.uint64
)
# Bit 0 of every slot; used to count slots that differ.
_SLOT_LOW_BITS = sum(1 << (SLOT_BITS * i) for i in range(SLOTS))
# One odd multiplier per slot (fixed, so fingerprints stored in the database stay
# comparable): word order under slot i is the order of (hash * multiplier) mod 2**64.
_MULTIPLIERS = np.array(
    [
        int.from_bytes(hashlib.blake2b(f"slot{i}".encode(), digest_size=8).digest(), "little") | 1
        for i in range(SLOTS)
    ],
    dtype=np.uint64,
)


@lru_cache(maxsize=65536)
def _token_hash(token: str) -> int:
    # Not Python's hash(): that changes per process, and fingerprints outlive the process.
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


def _fingerprint_tokens(text: str) -> list[str]:
    # The substring tests skip the regexes for the many texts without links or handles.
    if text[:3].lower() == "rt ":
        text = _RETWEET_PREFIX.sub("", text)
    if "@" in text or "://" in text or "www." in text or "WWW." in text:
        text = _NOT_CONTENT.sub(" ", text)
    words = _WORDS.findall(normalise(text))
    if text.isascii():
        return words
    tokens: list[str] = []
    for word in words:
        if not _HAS_CJK.search(word):
            tokens.append(word)
            continue
        for i, piece in enumerate(_CJK_RUN.split(word)):
            if i % 2 == 0:
                if piece:
                    tokens.append(piece)  # Latin letters or digits beside CJK
            elif len(piece) == 1:
                tokens.append(piece)
            else:
                tokens.extend(piece[j : j + 2] for j in range(len(piece) - 1))
    return tokens


def content_fingerprint(text: str) -> int:
    """64-bit MinHash signature (16 slots x 4 bits) of the text's normalised words; 0 if none.

    Copies with small edits differ in a few slots; unrelated texts in about 15 of 16.
    """
    words = set(_fingerprint_tokens(text))
    if not words:
        return 0
    hashes = np.fromiter((_token_hash(w) for w in words), dtype=np.uint64, count=len(words))
    winners = hashes[(hashes[:, None] * _MULTIPLIERS).argmin(axis=0)]
    return int(np.bitwise_or.reduce(winners & _SLOT_MASKS))


def fingerprint_distance(a: int, b: int) -> int:
    """Number of the 16 slots in which two fingerprints differ (0 = same word set, likely)."""
    x = a ^ b
    # Fold each slot's 4 bits onto its lowest bit, then count the slots that kept a 1.
    folded = x | (x >> 1) | (x >> 2) | (x >> 3)
    return (folded & _SLOT_LOW_BITS).bit_count()


K = TypeVar("K", bound=Hashable)

# Above 3 differing slots unrelated tweets start to match (see the measurements above).
_MAX_DISTANCE = 3
_SLOT_LOW_BITS_U64 = np.uint64(_SLOT_LOW_BITS)
_SHIFTS = (np.uint64(1), np.uint64(2), np.uint64(3))
_BANDS = 4  # 4 bands of 4 slots: distance <= 3 slots leaves at least one band identical
_BAND_BITS = SLOTS * SLOT_BITS // _BANDS
_BAND_MASK = (1 << _BAND_BITS) - 1


def _band(fingerprint: int, i: int) -> int:
    return (fingerprint >> (i * _BAND_BITS)) & _BAND_MASK


def _slot_distances(fingerprints: np.ndarray, fingerprint: int) -> np.ndarray:
    """`fingerprint_distance` from one fingerprint to each of an array of them."""
    x = fingerprints ^ np.uint64(fingerprint)
    folded = x | (x >> _SHIFTS[0]) | (x >> _SHIFTS[1]) | (x >> _SHIFTS[2])
    counts: np.ndarray = np.bitwise_count(folded & _SLOT_LOW_BITS_U64)
    return counts


class NearDuplicateIndex(Generic[K]):
    """Recent fingerprints, searchable for near duplicates within a time window; bounded size.

    Entries older than `window` (relative to the newest time seen) are evicted, and when more
    than `max_size` are held the oldest go first.

    Fingerprints and times live in flat numpy arrays (about 160 bytes an entry with its key,
    against 940 for per-entry objects and band tables), and a look-up compares the query with
    every entry at once: 20,000 entries take a fraction of a millisecond.
    """

    def __init__(
        self,
        window: timedelta = timedelta(hours=24),
        max_size: int = 100_000,
        max_distance: int = 3,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError(f"near-duplicate window must be positive, got {window}")
        if max_size < 1:
            raise ValueError(f"near-duplicate index size must be at least 1, got {max_size}")
        if not 0 <= max_distance <= _MAX_DISTANCE:
            raise ValueError(
                f"max_distance must be between 0 and {_MAX_DISTANCE}, got {max_distance}"
            )
        self.window = window.total_seconds()
        self.max_size = max_size
        self.max_distance = max_distance
        self._slots: dict[K, int] = {}  # key -> row in the arrays
        self._keys: list[K | None] = []  # row -> key (None: free row)
        self._free: list[int] = []
        self._fingerprints = np.zeros(0, dtype=np.uint64)
        self._bands = np.zeros((_BANDS, 0), dtype=np.uint16)  # one contiguous row per band
        self._times = np.zeros(0, dtype=np.float64)  # +inf on free rows
        self._order = np.zeros(0, dtype=np.int64)  # insertion order, to break ties in time
        self._seq = 0
        self._newest = float("-inf")
        self._oldest = float("inf")  # the oldest time held (a lower bound after removals)

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: object) -> bool:
        return key in self._slots

    def add(self, key: K, text: str, at: datetime) -> int:
        """Index `text` under `key` (replacing an earlier entry with that key); its fingerprint."""
        fingerprint = content_fingerprint(text)
        self.add_fingerprint(key, fingerprint, at)
        return fingerprint

    def add_fingerprint(self, key: K, fingerprint: int, at: datetime) -> None:
        """Index a fingerprint computed earlier (e.g. reloaded from the store after a restart)."""
        if key in self._slots:
            self._remove(self._slots[key])
        if fingerprint == 0:
            return  # text without words: nothing to compare
        when = at.timestamp()
        self._newest = max(self._newest, when)
        self._oldest = min(self._oldest, when)
        row = self._free.pop() if self._free else self._grow()
        self._seq += 1
        self._keys[row] = key
        self._slots[key] = row
        self._fingerprints[row] = fingerprint
        self._bands[:, row] = [_band(fingerprint, i) for i in range(_BANDS)]
        self._times[row] = when
        self._order[row] = self._seq
        self._evict()

    def find(self, text: str, at: datetime) -> K | None:
        """Key of the closest indexed text within the window and distance, or None."""
        return self.find_fingerprint(content_fingerprint(text), at)

    def find_fingerprint(self, fingerprint: int, at: datetime) -> K | None:
        """Like `find`, for a fingerprint computed earlier; ties go to the newest entry."""
        if fingerprint == 0 or not self._slots:
            return None
        when = at.timestamp()
        used = len(self._keys)  # rows past it are spare capacity
        # Within max_distance (at most 3 of 16 slots) one of the four 16-bit bands is equal:
        # a cheap pass over the band rows finds the candidates. The passes stay under glibc's
        # mmap threshold (monitor/heap.py) for 100,000 rows, so no temporary costs page faults.
        candidates = self._bands[0, :used] == _band(fingerprint, 0)
        for i in range(1, _BANDS):
            candidates |= self._bands[i, :used] == _band(fingerprint, i)
        rows = np.flatnonzero(candidates)
        # Free rows hold +inf times, so the window test leaves them out.
        rows = rows[np.abs(self._times[rows] - when) <= self.window]
        distances = _slot_distances(self._fingerprints[rows], fingerprint)
        close = distances <= self.max_distance
        rows, distances = rows[close], distances[close]
        if not len(rows):
            return None
        # Closest first, then newest, then the latest added.
        best = rows[np.lexsort((-self._order[rows], -self._times[rows], distances))[0]]
        return self._keys[int(best)]

    def _grow(self) -> int:
        """A new free row at the end of the arrays (capacity doubles, up to `max_size` + 1)."""
        used = len(self._keys)
        if used == len(self._fingerprints):
            size = min(max(64, 2 * used), self.max_size + 1)
            size = max(size, used + 1)
            self._fingerprints = np.resize(self._fingerprints, size)
            bands = np.zeros((_BANDS, size), dtype=np.uint16)
            bands[:, :used] = self._bands[:, :used]
            self._bands = bands
            self._times = np.resize(self._times, size)
            self._order = np.resize(self._order, size)
        self._keys.append(None)
        return used

    def _remove(self, row: int) -> None:
        key = self._keys[row]
        del self._slots[key]  # type: ignore[arg-type]  # a used row always has its key
        self._keys[row] = None
        self._times[row] = np.inf
        self._free.append(row)

    def _evict(self) -> None:
        horizon = self._newest - self.window
        times = self._times[: len(self._keys)]
        if self._oldest < horizon:
            for row in np.flatnonzero(times < horizon):
                self._remove(int(row))
            self._oldest = float(times.min()) if self._slots else float("inf")
        while len(self._slots) > self.max_size:
            # The oldest goes (of equal times, any one): one pass, not a sort.
            self._remove(int(np.argmin(times)))
            self._oldest = float(times.min())
