"""Scripted posts in each platform's own documented format, with the engagement of `now`.

Ids follow each platform's scheme so the real connectors page and refresh as they do live:
Reddit fullnames (t3_ + base 36), Mastodon and X snowflakes (time-ordered numbers), Bluesky
at:// URIs with time-sortable record keys, YouTube 11-character video ids.
"""

from __future__ import annotations

import base64
import html
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from monitor.demo.script import VIDEO_ID, ScriptedPost

X_EPOCH_MS = 1_288_834_974_657  # X's snowflake epoch
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # atproto's base32-sortable
_MASTODON_HOSTS = ("mastodon.example", "social.example", "toot.example")
_SUBREDDITS = {  # (name, subscribers) by brand and kind
    ("Kestrel", "harm"): ("ParentingUK", 160_000),
    ("Kestrel", "chatter"): ("snacks", 210_000),
    ("Voltra", "chatter"): ("VoltraPhones", 48_000),
    ("Voltra", "launch"): ("VoltraPhones", 48_000),
    ("Voltra", "complaint"): ("VoltraPhones", 48_000),
}
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, words: int = 6) -> str:
    """Lower-case words joined by hyphens, as in article and Reddit URLs."""
    return "-".join(_SLUG.sub(" ", text.lower()).split()[:words]) or "post"


def _millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _iso_ms(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


# -- news (RSS 2.0) ---------------------------------------------------------------------------


def article_url(post: ScriptedPost) -> str:
    """The article's own address on its outlet's site."""
    site = slug(post.author.name, 4)
    return f"https://{site}.example/{post.published_at:%Y/%m/%d}/{slug(post.title or post.text)}"


def rss_document(posts: list[ScriptedPost], title: str, link: str) -> bytes:
    """An RSS 2.0 channel, newest item first; the author goes in dc:creator as feeds do."""
    items = []
    for post in posts:
        headline = post.title or post.text.split("\n", 1)[0]
        body = post.text.split("\n", 1)[1] if "\n" in post.text else ""
        url = article_url(post)
        items.append(
            "<item>"
            f"<title>{escape(headline)}</title>"
            f"<link>{escape(url)}</link>"
            f'<guid isPermaLink="true">{escape(url)}</guid>'
            f"<pubDate>{format_datetime(post.published_at, usegmt=True)}</pubDate>"
            f"<dc:creator>{escape(post.author.name)}</dc:creator>"
            f"<description>{escape(body)}</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        "<description>News search results</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode("utf-8")


# -- Reddit (Listing of t3 links) -------------------------------------------------------------


def reddit_fullname(post: ScriptedPost) -> str:
    """t3_ and a base-36 id that grows with time."""
    number, digits = 0x1A2B3C0 + post.number, ""
    while number:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return f"t3_{digits}"


def reddit_link(post: ScriptedPost, now: datetime) -> dict[str, Any]:
    """One `t3` child of a Listing."""
    name = reddit_fullname(post)
    short = name.removeprefix("t3_")
    subreddit, subscribers = _SUBREDDITS.get((post.brand, post.kind), ("all", 100_000))
    title, _, body = post.text.partition("\n")
    if not body and len(title) > 100:
        # A long post: its first words are the title, the rest the self text.
        cut = title[:90].rfind(" ")
        title, body = title[:cut], title[cut + 1:]
    counts = post.engagement_at(now)
    return {
        "kind": "t3",
        "data": {
            "id": short, "name": name, "title": title, "selftext": body,
            "author": post.author.name, "subreddit": subreddit,
            "subreddit_subscribers": subscribers,
            "created_utc": float(int(post.published_at.timestamp())),
            "permalink": f"/r/{subreddit}/comments/{short}/{slug(title)}/",
            "score": counts.likes + 1, "num_comments": counts.comments,
            "upvote_ratio": 0.93, "over_18": False, "is_self": True,
        },
    }


def reddit_listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    """A Listing envelope."""
    return {"kind": "Listing", "data": {"after": after, "before": None, "dist": len(children),
                                        "children": children}}


# -- Mastodon (Status entities) ---------------------------------------------------------------


def mastodon_id(post: ScriptedPost) -> str:
    """A Mastodon snowflake: milliseconds shifted left 16 bits, plus a sequence."""
    return str((_millis(post.published_at) << 16) | (post.number & 0xFFFF))


def mastodon_status(post: ScriptedPost, now: datetime) -> dict[str, Any]:
    """One Status, from a remote account as a tag timeline shows it."""
    status_id = mastodon_id(post)
    host = _MASTODON_HOSTS[int(post.author.digest(2), 16) % len(_MASTODON_HOSTS)]
    name = post.author.name
    counts = post.engagement_at(now)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in post.text.split("\n") if p)
    return {
        "id": status_id,
        "uri": f"https://{host}/users/{name}/statuses/{status_id}",
        "url": f"https://{host}/@{name}/{status_id}",
        "created_at": _iso_ms(post.published_at),
        "content": paragraphs,
        "spoiler_text": "",
        "visibility": "public",
        "language": post.lang,
        "in_reply_to_id": None,
        "reblog": None,
        "reblogs_count": counts.shares,
        "favourites_count": counts.likes,
        "replies_count": counts.comments,
        "tags": [{"name": tag, "url": f"https://{host}/tags/{tag}"} for tag in post.tags],
        "account": {
            "id": post.author.digest(6), "username": name, "acct": f"{name}@{host}",
            "display_name": name.replace("_", " ").title(), "url": f"https://{host}/@{name}",
            "followers_count": post.author.reach,
        },
    }


# -- Bluesky (postView) -----------------------------------------------------------------------


def bluesky_did(post: ScriptedPost) -> str:
    """did:plc: and 24 base32 characters derived from the author."""
    raw = base64.b32encode(bytes.fromhex(post.author.digest(15))).decode().lower()
    return f"did:plc:{raw[:24]}"


def bluesky_handle(post: ScriptedPost) -> str:
    """The author's handle."""
    return f"{post.author.name.replace('_', '-')}.bsky.social"


def bluesky_uri(post: ScriptedPost) -> str:
    """at://<did>/app.bsky.feed.post/<TID>: the record key sorts by creation time."""
    value = (int(post.published_at.timestamp() * 1_000_000) << 10) | (post.number & 0x3FF)
    key = ""
    for _ in range(13):
        value, rest = divmod(value, 32)
        key = _TID_ALPHABET[rest] + key
    return f"at://{bluesky_did(post)}/app.bsky.feed.post/{key}"


def bluesky_post(post: ScriptedPost, now: datetime) -> dict[str, Any]:
    """One app.bsky.feed.defs#postView."""
    counts = post.engagement_at(now)
    created = _iso_ms(post.published_at)
    return {
        "uri": bluesky_uri(post),
        "cid": "bafyrei" + post.author.digest(10) + f"{post.number:06d}",
        "author": {"did": bluesky_did(post), "handle": bluesky_handle(post),
                   "displayName": post.author.name.replace("_", " ").title()},
        "record": {"$type": "app.bsky.feed.post", "text": post.text, "createdAt": created,
                   "langs": [post.lang]},
        "replyCount": counts.comments,
        "repostCount": counts.shares * 3 // 4,
        "quoteCount": counts.shares - counts.shares * 3 // 4,
        "likeCount": counts.likes,
        "indexedAt": created,
    }


def on_jetstream(post: ScriptedPost) -> bool:
    """Whether the demo plays this post on its Jetstream stand-in instead of in search.

    Half the Bluesky posts (by their number) go to the live stream, so the demo runs both the
    `bluesky` search source and the `bluesky_stream` source, each with posts of its own.
    """
    return post.platform == "bluesky" and post.number % 2 == 0


def jetstream_event(post: ScriptedPost, time_us: int) -> dict[str, Any]:
    """One Jetstream `commit` event creating the post, as Jetstream sends it."""
    _, _, rkey = bluesky_uri(post).rpartition("/")
    return {
        "did": bluesky_did(post),
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": rkey,
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": {"$type": "app.bsky.feed.post", "text": post.text,
                       "createdAt": _iso_ms(post.published_at), "langs": [post.lang]},
            "cid": "bafyrei" + post.author.digest(10) + f"{post.number:06d}",
        },
    }


def bluesky_profile(post: ScriptedPost) -> dict[str, Any]:
    """One app.bsky.actor.defs#profileViewDetailed (the fields the connector reads)."""
    return {"did": bluesky_did(post), "handle": bluesky_handle(post),
            "followersCount": post.author.reach}


# -- X (API v2 tweets) ------------------------------------------------------------------------


def x_id(post: ScriptedPost) -> str:
    """An X snowflake: milliseconds since X's epoch shifted left 22 bits, plus a sequence."""
    return str(((_millis(post.published_at) - X_EPOCH_MS) << 22) | (post.number & 0xFFF))


def x_user_id(post: ScriptedPost) -> str:
    """A numeric user id derived from the author."""
    return str(int(post.author.digest(7), 16))


def x_tweet(post: ScriptedPost, now: datetime) -> dict[str, Any]:
    """One Tweet object with the fields the connector asks for."""
    counts = post.engagement_at(now)
    tweet_id = x_id(post)
    return {
        "id": tweet_id,
        "text": html.escape(post.text, quote=False),  # v2 escapes &, < and > in text
        "created_at": _iso_ms(post.published_at),
        "author_id": x_user_id(post),
        "conversation_id": tweet_id,
        "lang": post.lang,
        "public_metrics": {
            "retweet_count": counts.shares * 4 // 5, "quote_count": counts.shares // 5,
            "reply_count": counts.comments, "like_count": counts.likes,
            "bookmark_count": counts.likes // 20, "impression_count": counts.views,
        },
    }


def x_user(post: ScriptedPost) -> dict[str, Any]:
    """One User object (expansion of author_id)."""
    return {"id": x_user_id(post), "username": post.author.name,
            "name": post.author.name.replace("_", " ").title(),
            "public_metrics": {"followers_count": post.author.reach}}


# -- YouTube (Data API v3) --------------------------------------------------------------------


def youtube_id(post: ScriptedPost) -> str:
    """The video id: the scripted claim video keeps its published id."""
    if post.kind == "video":
        return VIDEO_ID
    raw = base64.urlsafe_b64encode(bytes.fromhex(post.author.digest(9))).decode()
    return (raw[:10] + "AEIMQUYcgkosw048"[post.number % 16])[:11]


def youtube_channel_id(post: ScriptedPost) -> str:
    """UC and 22 characters derived from the channel name."""
    return "UC" + base64.urlsafe_b64encode(bytes.fromhex(post.author.digest(17))).decode()[:22]


def _youtube_snippet(post: ScriptedPost) -> dict[str, Any]:
    title, _, description = post.text.partition("\n")
    return {
        "publishedAt": post.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "channelId": youtube_channel_id(post),
        "title": post.title or title,
        "description": description,
        "channelTitle": post.author.name,
    }


def youtube_search_result(post: ScriptedPost) -> dict[str, Any]:
    """One search.list item; titles come HTML-escaped as the real API sends them."""
    snippet = _youtube_snippet(post)
    snippet["title"] = html.escape(snippet["title"])
    snippet["description"] = html.escape(snippet["description"][:160])
    return {"kind": "youtube#searchResult",
            "id": {"kind": "youtube#video", "videoId": youtube_id(post)}, "snippet": snippet}


def youtube_video(post: ScriptedPost, now: datetime, parts: set[str]) -> dict[str, Any]:
    """One videos.list item with the requested parts; counters are decimal strings."""
    item: dict[str, Any] = {"kind": "youtube#video", "id": youtube_id(post)}
    if "snippet" in parts:
        item["snippet"] = {**_youtube_snippet(post), "defaultAudioLanguage": post.lang}
    if "statistics" in parts:
        counts = post.engagement_at(now)
        item["statistics"] = {"viewCount": str(counts.views), "likeCount": str(counts.likes),
                              "favoriteCount": "0", "commentCount": str(counts.comments)}
    return item


def youtube_channel(post: ScriptedPost) -> dict[str, Any]:
    """One channels.list item with statistics."""
    return {"kind": "youtube#channel", "id": youtube_channel_id(post),
            "statistics": {"subscriberCount": str(post.author.reach),
                           "hiddenSubscriberCount": False}}
