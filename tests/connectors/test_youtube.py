"""YouTube connector against a local server replaying Data API v3 responses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestServer
from blockbuster import BlockBuster

from connectors.base import AuthError, Cursor, RateLimited, SourceError, connector_class
from connectors.youtube import YouTubeConnector, YouTubeOptions
from connectors.youtube_api import PACIFIC, next_quota_reset, pacific_day
from monitor.clock import VirtualClock
from monitor.httpclient import HttpClient
from monitor.outbound import redact_url
from tests.connectors.replay_server import ReplayServer, Reply, allow_fixture_reads, client_logs
from tests.zone_files import zone_files_opened

FAKE_KEY = "AIzaSyFAKE-youtube-key-0123456789"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 04:00 Pacific
NEXT_RESET = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # midnight PST
API = "/youtube/v3"
ROOT = Path(__file__).resolve().parents[2]

ServerFactory = Callable[[Any], Awaitable[TestServer]]


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YT_TEST_KEY", FAKE_KEY)


@pytest.fixture
def make(
    replay: ReplayServer, http: HttpClient, aiohttp_server: ServerFactory
) -> Callable[..., Awaitable[YouTubeConnector]]:
    async def build(**options: Any) -> YouTubeConnector:
        server = await aiohttp_server(replay.app())
        opts = YouTubeOptions.model_validate(
            {
                "api_key": {"env": "YT_TEST_KEY"},
                "query": "acme cola",
                "base_url": str(server.make_url(API)),
                **options,
            }
        )
        return YouTubeConnector("yt", opts, http, clock=VirtualClock(NOW))

    return build


def fx(name: str, status: int = 200, **kw: Any) -> Reply:
    return Reply.fixture(f"youtube/{name}.json", status=status, **kw)


async def test_first_poll_maps_videos_with_statistics_and_reach(replay, make):
    replay.add(f"{API}/search", fx("search_page1"))
    replay.add(f"{API}/videos", fx("videos_page1"))
    replay.add(f"{API}/channels", fx("channels"))
    connector = await make()

    result = await connector.fetch(Cursor())

    search = replay.requests_to(f"{API}/search")[0].query
    assert search["part"] == "snippet" and search["type"] == "video"
    assert search["order"] == "date" and search["q"] == "acme cola"
    assert search["maxResults"] == "50" and search["key"] == FAKE_KEY
    # first poll: lookback (24h) plus the overlap for the search index's lag (1h)
    assert search["publishedAfter"] == "2026-11-20T11:00:00Z"
    videos = replay.requests_to(f"{API}/videos")[0].query
    assert videos["id"] == "dQw4w9WgXc1,aBcDeFgHiJ2"
    assert videos["part"] == "snippet,statistics"
    assert replay.requests_to(f"{API}/channels")[0].query["id"] == (
        "UCkitchenchaos0000000001,UCsodareviews00000000002"
    )

    first, second = result.mentions
    assert first.platform == "youtube" and first.external_id == "dQw4w9WgXc1"
    assert first.url == "https://www.youtube.com/watch?v=dQw4w9WgXc1"
    # the full description from videos.list, not the truncated, HTML-escaped search snippet
    assert first.text == (
        "Acme Cola made my whole family sick?! We're not OK We drank Acme Cola at the party "
        "and then everyone got sick. Full story and what the doctor said about contamination."
    )
    assert first.author == "Kitchen Chaos" and first.author_reach == 412_000
    assert first.published_at == datetime(2026, 11, 21, 11, 40, 5, tzinfo=UTC)
    assert first.lang == "en"
    assert first.engagement is not None
    assert (first.engagement.views, first.engagement.likes, first.engagement.comments) == (
        48213, 2310, 871,
    )
    assert second.title == "Acme Cola taste test & review"
    assert second.author_reach is None  # hidden subscriber count
    assert second.lang == "en"  # defaultAudioLanguage "zxx" says nothing; defaultLanguage does
    assert second.engagement is not None and second.engagement.likes is None  # likes hidden

    assert result.cursor.position["quota_used"] == 102  # search 100 + videos 1 + channels 1
    assert result.cursor.position["quota_day"] == "2026-11-21"
    assert result.cursor.position["published_after"] == "2026-11-21T11:40:05Z"
    assert result.budget is not None
    assert (result.budget.remaining, result.budget.limit) == (9898, 10_000)
    assert result.budget.unit == "quota units" and result.budget.resets_at == NEXT_RESET
    assert result.skipped == 0 and not replay.unscripted


async def test_next_page_token_and_next_poll_cursor(replay, make):
    replay.add(f"{API}/search", fx("search_page1"), fx("search_page2"), fx("search_page2"))
    replay.add(f"{API}/videos", fx("videos_page1"))
    connector = await make(max_pages=2, channel_reach=False)

    result = await connector.fetch(Cursor())

    pages = replay.requests_to(f"{API}/search")
    assert "pageToken" not in pages[0].query
    assert pages[1].query["pageToken"] == "CAIQAA"
    # one videos.list call for all three ids of both pages
    assert replay.requests_to(f"{API}/videos")[0].query["id"] == (
        "dQw4w9WgXc1,aBcDeFgHiJ2,ZyXwVuTsRq3"
    )
    assert [m.external_id for m in result.mentions] == ["dQw4w9WgXc1", "aBcDeFgHiJ2", "ZyXwVuTsRq3"]
    assert result.cursor.position["quota_used"] == 201

    # The next poll searches from the newest video (minus the overlap) and drops repeats.
    again = await connector.fetch(result.cursor)
    assert replay.requests_to(f"{API}/search")[2].query["publishedAfter"] == "2026-11-21T10:40:05Z"
    assert again.mentions == []
    assert len(replay.requests_to(f"{API}/videos")) == 1  # nothing new: no statistics call
    assert again.cursor.position["quota_used"] == 301


async def test_empty_page(replay, make):
    replay.add(f"{API}/search", fx("search_empty"))
    connector = await make()

    result = await connector.fetch(Cursor())

    assert result.mentions == [] and result.skipped == 0
    assert replay.requests_to(f"{API}/videos") == []
    assert result.cursor.position["quota_used"] == 100
    assert result.cursor.position["published_after"] == "2026-11-20T12:00:00Z"


async def test_item_with_null_field_is_skipped_and_logged(replay, make, caplog):
    replay.add(f"{API}/search", fx("search_null_field"))
    replay.add(f"{API}/videos", fx("videos_page1"))
    connector = await make(channel_reach=False)

    with caplog.at_level(logging.INFO, logger="connectors.youtube"):
        result = await connector.fetch(Cursor())

    assert [m.external_id for m in result.mentions] == ["aBcDeFgHiJ2"]
    assert result.skipped == 1
    assert "skipped search result 0" in caplog.text


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (fx("error_unauthorized", 401), AuthError, "$YT_TEST_KEY"),
        (fx("error_forbidden", 403), AuthError, "forbidden"),
        (fx("error_key_invalid", 400), AuthError, "API_KEY_INVALID"),
    ],
    ids=["401", "403-forbidden", "400-key-invalid"],
)
async def test_errors_map_to_connector_errors_without_the_key(
    replay, make, caplog, reply, error, words
):
    replay.add(f"{API}/search", reply)
    connector = await make()

    with caplog.at_level(logging.DEBUG), pytest.raises(error) as info:
        await connector.fetch(Cursor())

    assert words in str(info.value)
    assert FAKE_KEY not in str(info.value) and FAKE_KEY not in client_logs(caplog)
    assert type(info.value) is not RateLimited


async def test_quota_exceeded_403_waits_until_pacific_midnight(replay, make):
    replay.add(f"{API}/search", fx("error_quota_exceeded", 403))
    connector = await make()

    with pytest.raises(RateLimited) as info:
        await connector.fetch(Cursor())

    assert info.value.retry_after == (NEXT_RESET - NOW).total_seconds()
    assert FAKE_KEY not in str(info.value)


async def test_spent_daily_quota_stops_before_calling(replay, make):
    connector = await make(daily_quota=10_000)
    cursor = Cursor({"quota_day": "2026-11-21", "quota_used": 9_950})

    with pytest.raises(RateLimited) as info:
        await connector.fetch(cursor)

    assert replay.requests == []
    assert info.value.retry_after == (NEXT_RESET - NOW).total_seconds()
    assert "9950 of 10000" in str(info.value)


async def test_quota_count_restarts_on_a_new_pacific_day(replay, make):
    replay.add(f"{API}/search", fx("search_empty"))
    connector = await make()
    yesterday = Cursor({"quota_day": "2026-11-20", "quota_used": 10_000})

    result = await connector.fetch(yesterday)

    assert result.cursor.position == result.cursor.position | {
        "quota_day": "2026-11-21", "quota_used": 100,
    }


@pytest.mark.parametrize(
    ("now", "day", "reset"),
    [
        # 04:00 PST on the 21st: still the 21st in California
        (datetime(2026, 11, 21, 12, 0, tzinfo=UTC), "2026-11-21", datetime(2026, 11, 22, 8, 0)),
        # 02:00 UTC on the 21st is 18:00 PST on the 20th
        (datetime(2026, 11, 21, 2, 0, tzinfo=UTC), "2026-11-20", datetime(2026, 11, 21, 8, 0)),
        # summer time (PDT, UTC-7)
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "2026-07-01", datetime(2026, 7, 2, 7, 0)),
        # the day clocks go back (1 Nov 2026): midnight after it is PST again
        (datetime(2026, 11, 1, 12, 0, tzinfo=UTC), "2026-11-01", datetime(2026, 11, 2, 8, 0)),
    ],
)
def test_pacific_quota_day(now: datetime, day: str, reset: datetime) -> None:
    pacific = ZoneInfo(PACIFIC)
    assert pacific_day(now, pacific) == day
    assert next_quota_reset(now, pacific) == reset.replace(tzinfo=UTC)


async def test_comments_on_found_videos_are_read_once(replay, make):
    replay.add(f"{API}/search", fx("search_page1"), fx("search_empty"))
    replay.add(f"{API}/videos", fx("videos_page1"))
    replay.add(f"{API}/commentThreads", fx("comment_threads"), fx("error_comments_disabled", 403))
    replay.add(f"{API}/commentThreads", fx("comment_threads_later"))
    connector = await make(channel_reach=False, comments_on_found_within="24h")

    result = await connector.fetch(Cursor())

    calls = replay.requests_to(f"{API}/commentThreads")
    assert [c.query["videoId"] for c in calls] == ["dQw4w9WgXc1", "aBcDeFgHiJ2"]
    assert calls[0].query["order"] == "time" and calls[0].query["textFormat"] == "plainText"
    assert calls[0].query["part"] == "snippet,replies"
    comments = [m for m in result.mentions if m.parent_id == "dQw4w9WgXc1"]
    assert [c.external_id for c in comments] == [
        "UgzNewest0000000000000001", "UgzOlder00000000000000002",
    ]
    # all four replies came inline: no comments.list call
    replies = [m for m in result.mentions if m.parent_id == "UgzNewest0000000000000001"]
    assert len(replies) == 4 and replay.requests_to(f"{API}/comments") == []
    first = comments[0]
    assert first.parent_id == "dQw4w9WgXc1" and first.author == "@worriedmum"
    assert first.url == "https://www.youtube.com/watch?v=dQw4w9WgXc1&lc=UgzNewest0000000000000001"
    assert first.engagement is not None
    assert (first.engagement.likes, first.engagement.comments) == (57, 4)
    assert result.cursor.position["quota_used"] == 100 + 1 + 2

    # Next poll: only comments newer than the last seen one; the video with comments
    # disabled is not asked again.
    again = await connector.fetch(result.cursor)
    later = replay.requests_to(f"{API}/commentThreads")
    assert [c.query["videoId"] for c in later[2:]] == ["dQw4w9WgXc1"]
    assert [m.external_id for m in again.mentions] == [
        "UgzLatest0000000000000003", "UgzLatest0000000000000003.AQ000000000001",
    ]
    assert not replay.unscripted


async def test_refresh_reads_statistics_fifty_ids_per_call(replay, make):
    replay.add(f"{API}/videos", fx("videos_refresh"), Reply.json({"items": []}))
    connector = await make()
    refs = ["dQw4w9WgXc1", *(f"video{i:06d}" for i in range(55)), "UgzNotAVideoId00000001"]

    updates = await connector.refresh(refs)

    calls = replay.requests_to(f"{API}/videos")
    assert [len(c.query["id"].split(",")) for c in calls] == [50, 6]
    assert "UgzNotAVideoId00000001" not in calls[1].query["id"]  # comment ids cost nothing
    assert calls[0].query["part"] == "statistics"
    (update,) = updates
    assert update.external_id == "dQw4w9WgXc1" and update.observed_at == NOW
    assert (update.engagement.views, update.engagement.likes) == (190_544, 9120)

    # The refresh's 2 units reach the next poll's cursor.
    replay.add(f"{API}/search", fx("search_empty"))
    result = await connector.fetch(Cursor({"quota_day": "2026-11-21", "quota_used": 40}))
    assert result.cursor.position["quota_used"] == 142


def test_key_is_masked_by_redact_url() -> None:
    url = f"https://www.googleapis.com/youtube/v3/search?q=acme&key={FAKE_KEY}"
    assert FAKE_KEY not in redact_url(url)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"query": "acme"}, "api_key"),
        ({"api_key": "AIzaLiteral", "query": "acme"}, "environment variables"),
        ({"api_key": {"env": "K"}, "query": "acme", "quota": 5}, "Extra inputs"),
        ({"api_key": {"env": "K"}, "query": "acme", "comment_video_ids": ["nope"]}, "video id"),
        ({"api_key": {"env": "K"}, "query": "acme", "daily_quota": 50}, "greater than or equal"),
    ],
)
def test_options_validation(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError) as info:
        YouTubeOptions.model_validate(options)
    assert problem in str(info.value)


def test_registered() -> None:
    assert connector_class("youtube") is YouTubeConnector
    assert YouTubeConnector.supports_refresh


async def test_units_of_a_failed_poll_still_count(replay, make):
    replay.add(f"{API}/search", fx("search_page1"), fx("search_empty"))
    replay.add(f"{API}/videos", fx("error_backend", 500))
    connector = await make(channel_reach=False)
    cursor = Cursor({"quota_day": "2026-11-21", "quota_used": 1_000})

    with pytest.raises(SourceError):
        await connector.fetch(cursor)
    result = await connector.fetch(cursor)  # the runner retries with the old cursor

    assert result.cursor.position["quota_used"] == 1_000 + 101 + 100


async def test_comments_on_listed_videos_continue_from_the_last_one(replay, make):
    replay.add(f"{API}/search", fx("search_empty"), fx("search_empty"))
    replay.add(f"{API}/commentThreads", fx("comment_threads"), fx("comment_threads_later"))
    connector = await make(comment_video_ids=["dQw4w9WgXc1"])

    first = await connector.fetch(Cursor())
    second = await connector.fetch(first.cursor)

    assert [m.external_id for m in first.mentions] == [
        "UgzNewest0000000000000001",
        *(f"UgzNewest0000000000000001.AQ00000000000{i}" for i in range(1, 5)),
        "UgzOlder00000000000000002",
    ]
    assert [m.external_id for m in second.mentions] == [
        "UgzLatest0000000000000003", "UgzLatest0000000000000003.AQ000000000001",
    ]
    # the newest comment or reply seen: its reply at 12:24
    assert second.cursor.position["comment_since"] == {"dQw4w9WgXc1": "2026-11-21T12:24:00Z"}


# -- comment paging and replies ---------------------------------------------------------------

LISTED = "aBcDeFgHiJ2"
THREAD_A = "UgyPage1Thread0000000001"
THREAD_B = "UgyPage1Thread0000000002"  # 7 replies: 5 inline, all 7 via comments.list


def script_comment_pages(replay: ReplayServer, pages: int = 3) -> None:
    replay.add(f"{API}/search", fx("search_empty"))
    replay.add(
        f"{API}/commentThreads",
        *(fx(f"comment_threads_page{n}") for n in range(1, pages + 1)),
    )


async def test_comment_threads_follow_next_page_token_and_replies(replay, make):
    script_comment_pages(replay)
    replay.add(f"{API}/comments", fx("comment_replies_page1"), fx("comment_replies_page2"))
    connector = await make(comment_video_ids=[LISTED])

    result = await connector.fetch(Cursor())

    pages = replay.requests_to(f"{API}/commentThreads")
    assert [p.query.get("pageToken") for p in pages] == [
        None, "Z2V0X25ld2VzdF9maXJzdC0tQ2dn", "Z2V0X25ld2VzdF9maXJzdC0tQ2di",
    ]
    assert all(p.query["part"] == "snippet,replies" for p in pages)
    replies = replay.requests_to(f"{API}/comments")
    assert [r.query["parentId"] for r in replies] == [THREAD_B, THREAD_B]
    assert [r.query.get("pageToken") for r in replies] == [None, "cmVwbGllcy1wYWdlLTI"]
    assert replies[0].query["part"] == "snippet" and replies[0].query["maxResults"] == "100"

    by_id = {m.external_id: m for m in result.mentions}
    tops = [m.external_id for m in result.mentions if m.parent_id == LISTED]
    assert tops == [
        THREAD_A, THREAD_B,
        "UgyPage2Thread0000000003", "UgyPage2Thread0000000004", "UgyPage3Thread0000000005",
    ]
    # Replies point at their thread's top-level comment, so claim clustering sees the chain.
    assert sorted(m.external_id for m in result.mentions if m.parent_id == THREAD_A) == [
        f"{THREAD_A}.AQ000000000001", f"{THREAD_A}.AQ000000000002",
    ]
    b_replies = [m for m in result.mentions if m.parent_id == THREAD_B]
    assert len(b_replies) == 7 == len({m.external_id for m in b_replies})  # inline + listed once
    proof = by_id[f"{THREAD_B}.AQ000000000006"]
    assert proof.text == "I have the hospital letter to prove it"
    assert proof.url == f"https://www.youtube.com/watch?v={LISTED}&lc={THREAD_B}.AQ000000000006"
    assert proof.engagement is not None and proof.engagement.likes == 22
    assert by_id[THREAD_B].engagement is not None and by_id[THREAD_B].engagement.comments == 7
    assert len(result.mentions) == 5 + 2 + 7
    # search 100 + three thread pages + two reply pages, one unit each
    assert result.cursor.position["quota_used"] == 100 + 3 + 2
    assert result.cursor.position["reply_counts"] == {THREAD_B: 7}
    assert result.cursor.position["comment_since"] == {LISTED: "2026-11-21T11:58:00Z"}
    assert not replay.unscripted and replay.pending() == {}


async def test_comment_pages_stop_at_the_bound(replay, make, caplog):
    script_comment_pages(replay, pages=2)
    connector = await make(comment_video_ids=[LISTED], max_comment_pages=2, max_reply_pages=0)

    with caplog.at_level(logging.INFO, logger="connectors.youtube_comments"):
        result = await connector.fetch(Cursor())

    assert len(replay.requests_to(f"{API}/commentThreads")) == 2
    assert replay.requests_to(f"{API}/comments") == []  # no reply pages allowed
    assert "read 2 comment pages of video aBcDeFgHiJ2" in caplog.text
    assert "replies of comment UgyPage1Thread0000000002 not all read" in caplog.text
    # the five inline replies of thread B are still kept
    assert len([m for m in result.mentions if m.parent_id == THREAD_B]) == 5
    assert result.cursor.position["quota_used"] == 102
    assert not replay.unscripted


async def test_comment_paging_stops_at_known_comments_and_replies_are_not_reread(replay, make):
    replay.add(f"{API}/search", fx("search_empty"))
    replay.add(
        f"{API}/commentThreads", fx("comment_threads_page1"), fx("comment_threads_page2")
    )
    cursor = Cursor({
        "quota_day": "2026-11-21", "quota_used": 0,
        "comment_since": {LISTED: "2026-11-21T11:20:00Z"},
        "reply_counts": {THREAD_B: 7},  # all seven read by an earlier poll
    })
    connector = await make(comment_video_ids=[LISTED])

    result = await connector.fetch(cursor)

    # page 2 reaches a thread from 11:10, older than the last seen comment: no page 3
    assert len(replay.requests_to(f"{API}/commentThreads")) == 2
    assert replay.requests_to(f"{API}/comments") == []
    assert "UgyPage2Thread0000000004" not in {m.external_id for m in result.mentions}
    assert len([m for m in result.mentions if m.parent_id == THREAD_B]) == 5
    assert result.cursor.position["quota_used"] == 102
    assert not replay.unscripted


async def test_comment_pages_leave_the_quota_for_the_next_search(replay, make, caplog):
    script_comment_pages(replay, pages=1)
    connector = await make(comment_video_ids=[LISTED], daily_quota=10_000)
    # after this poll's search (100) and one thread page (1), 101 units are left: the next
    # poll's search and statistics, so no second page and no reply pages
    cursor = Cursor({"quota_day": "2026-11-21", "quota_used": 10_000 - 202})

    with caplog.at_level(logging.INFO, logger="connectors.youtube_comments"):
        result = await connector.fetch(cursor)

    assert len(replay.requests_to(f"{API}/commentThreads")) == 1
    assert replay.requests_to(f"{API}/comments") == []
    assert result.cursor.position["quota_used"] == 10_000 - 101
    assert result.budget is not None and result.budget.remaining == 101
    assert "quota too low for more comments" in caplog.text
    assert not replay.unscripted


# -- the quota's time zone ---------------------------------------------------------------------

def test_import_reads_no_time_zone_file() -> None:
    # A config reload may import the module on the event loop: a file read there blocks it.
    assert zone_files_opened("", "import connectors.youtube") == []


async def test_quota_zone_is_read_off_the_event_loop(
    replay: ReplayServer, make: Callable[..., Awaitable[YouTubeConnector]],
    no_blocking: BlockBuster,
) -> None:
    allow_fixture_reads(no_blocking)
    ZoneInfo.clear_cache()  # so the first poll reads the zone's file, as in a fresh daemon
    replay.add(f"{API}/search", fx("search_empty"))
    connector = await make()

    result = await connector.fetch(Cursor())  # blockbuster fails it if the read is on the loop

    assert result.cursor.position["quota_day"] == "2026-11-21"
    assert result.budget is not None and result.budget.resets_at == NEXT_RESET
