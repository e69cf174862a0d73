"""Scoring stage: micro-batches mentions to the models on one dedicated thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from monitor.clock import Clock
from monitor.heap import trim_heap
from monitor.metrics import Metrics
from monitor.records import Mention, Score
from monitor.store import Store
from monitor.worker_thread import DaemonThreadExecutor

if TYPE_CHECKING:
    from monitor.config import BrandConfig

log = logging.getLogger(__name__)
ScoredListener = Callable[[list[tuple[Mention, Score]]], Awaitable[None]]
Masker = Callable[[str], str]
MASK = "the brand"
TRIM_INTERVAL = 1.0  # seconds between heap trims on the scoring thread
IDLE_POLL = 0.5  # seconds between claims while the shared scoring queue is empty
BACKLOG_EVERY = 10.0  # seconds between counts of the shared queue (for status and metrics)


def brand_masker(names: Sequence[str]) -> Masker:
    """A function that replaces the brands' names and aliases in a text with one neutral word.

    The models read the masked text, so the sentence embedding that claim clusters compare says
    what is claimed, not who it is about: unmasked, "Spotify" alone makes every post about the
    brand look alike. Whole words only, so hashtags (#DeleteSpotify) stay as written.
    """
    terms = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    if not terms:
        return lambda text: text
    pattern = re.compile(
        "|".join(rf"(?<![\w#@]){re.escape(t)}(?!\w)" for t in terms), re.IGNORECASE
    )
    return lambda text: pattern.sub(MASK, text)


def config_masker(brands: Sequence[BrandConfig]) -> Masker:
    """The masker for configured brands (names and aliases)."""
    return brand_masker([n for b in brands for n in (b.name, *b.aliases)])


class TextScorer(Protocol):
    """What the stage needs from models/: batch in, one Score per text out."""

    @property
    def model_id(self) -> str:
        """Which models score (for logs and stored scores)."""
        ...

    def score(self, texts: Sequence[str]) -> list[Score]:
        """Score texts (synchronous, batch-first)."""
        ...


class ScoringStage:
    """Scores stored mentions off the event loop; unscored mentions are picked up again later."""

    def __init__(
        self,
        store: Store,
        load_scorer: Callable[[], TextScorer],
        clock: Clock,
        metrics: Metrics | None = None,
        *,
        max_batch: int = 64,
        max_wait: float = 0.2,
        queue_size: int = 10_000,
        sweep_interval: float = 60.0,
        retry_load_after: float = 300.0,
        masker: Masker | None = None,
    ) -> None:
        self.store = store
        self.masker = masker
        self._load_scorer = load_scorer
        self.clock = clock
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.sweep_interval = sweep_interval
        self.retry_load_after = retry_load_after
        self.scorer: TextScorer | None = None
        self.load_error: str | None = None
        self.dropped = 0  # mentions not queued because the queue was full (the sweep finds them)
        self._queue: asyncio.Queue[Mention] = asyncio.Queue(maxsize=queue_size)
        self._queued_ids: set[int] = set()
        self._executor = DaemonThreadExecutor("scoring")
        self._listeners: list[ScoredListener] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._last_load_attempt = float("-inf")
        self._closing = False
        self._scoring_batch = False
        self._last_trim = float("-inf")
        self.scored_total = 0
        # Set by `share`: this daemon claims its work from the database's scoring queue.
        self._holder: str | None = None
        self._wake = asyncio.Event()
        self._backlog = 0
        self._claim_seconds = 120.0

    def on_scored(self, listener: ScoredListener) -> None:
        """Call `listener` with every scored batch (detection)."""
        self._listeners.append(listener)

    def share(self, holder: str, claim: float) -> None:
        """Score what this daemon claims from the database's scoring queue, where the mentions
        every daemon stores wait (several daemons on one PostgreSQL database); a claim lasts
        `claim` seconds, then another daemon may score its mentions."""
        self._holder = holder
        self._claim_seconds = claim

    async def submit(self, mentions: Sequence[Mention]) -> None:
        """Queue newly stored mentions; never blocks (a full queue defers them to the sweep)."""
        if self._holder is not None:
            self._wake.set()  # they wait in the database's queue: claim some now
            return
        for mention in mentions:
            if mention.id is None or mention.id in self._queued_ids:
                continue
            try:
                self._queue.put_nowait(mention)
            except asyncio.QueueFull:
                self.dropped += 1
                continue
            self._queued_ids.add(mention.id)
        if self.metrics is not None:
            self.metrics.queue_depth.labels("scoring").set(self._queue.qsize())

    async def use_threads(self, threads: int) -> int | None:
        """Score on `threads` CPU threads from the next batch on; returns the count before, or
        None when the models are not loaded or cannot change it."""
        scorer = self.scorer
        change = getattr(scorer, "use_threads", None)
        if change is None:
            return None
        before: int = await asyncio.get_running_loop().run_in_executor(
            self._executor, change, threads
        )
        return before

    @property
    def depth(self) -> int:
        """Mentions waiting to be scored (shared: in the database's queue, as last counted)."""
        return self._backlog if self._holder is not None else self._queue.qsize()

    async def start(self) -> None:
        """Start the worker and the sweep; the models load in the background, off the loop."""
        if self._holder is not None:
            self._tasks = [asyncio.create_task(self._work_shared(), name="scoring-worker")]
            return
        self._tasks = [
            asyncio.create_task(self._work(), name="scoring-worker"),
            asyncio.create_task(self._sweep_forever(), name="scoring-sweep"),
        ]

    async def _work_shared(self) -> None:
        """Claim batches from the database's queue and score them until stopped."""
        holder = self._holder
        assert holder is not None
        limit, claim = self.max_batch, self._claim_seconds
        counted = float("-inf")
        failing = False
        while not self._closing:
            if not await self._ensure_scorer():
                await asyncio.sleep(min(self.retry_load_after, 5.0))
                continue
            try:
                if time.monotonic() - counted >= BACKLOG_EVERY:
                    counted = time.monotonic()
                    self._backlog = await self.store.read(lambda tx: tx.cluster.scoring_backlog())
                batch = await self.store.transaction(
                    lambda tx: tx.cluster.claim_for_scoring(holder, limit, claim)
                )
            except Exception as exc:
                # One line per outage, not one per retry (the database may be down for minutes).
                log.log(logging.DEBUG if failing else logging.ERROR,
                        "claiming mentions to score failed (%s); trying again shortly", exc)
                failing = True
                await asyncio.sleep(IDLE_POLL * 4)
                continue
            if failing:
                log.info("claiming mentions to score works again")
                failing = False
            if not batch:
                self._backlog = 0
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL)
                continue
            self._scoring_batch = True
            try:
                await self.score_batch(batch)
            except Exception:
                log.exception(
                    "scoring a batch of %d mentions failed; another daemon or a later claim "
                    "scores them once the claim runs out", len(batch),
                )
            finally:
                self._scoring_batch = False

    async def _ensure_scorer(self) -> bool:
        if self.scorer is not None:
            return True
        now = time.monotonic()
        if now - self._last_load_attempt < self.retry_load_after:
            return False
        self._last_load_attempt = now
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        log.info("loading models; mentions are stored meanwhile and scored once they load")
        try:
            self.scorer = await loop.run_in_executor(self._executor, self._load_scorer)
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error(
                "models could not be loaded (%s); mentions are stored unscored and will be scored "
                "when loading succeeds (next try in %.0fs)", self.load_error, self.retry_load_after,
            )
            return False
        self.load_error = None
        log.info(
            "models loaded in %.1fs: %s", time.perf_counter() - started, self.scorer.model_id
        )
        return True

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("scoring sweep failed; trying again in %.0fs", self.sweep_interval)
            # Until the models load, retry on their schedule rather than the sweep's.
            await asyncio.sleep(self.sweep_interval if self.scorer else self.retry_load_after)

    async def sweep(self) -> int:
        """Queue stored mentions that have no score yet; returns how many were queued."""
        if not await self._ensure_scorer():
            return 0
        pending = await self.store.unscored_mentions(limit=self._queue.maxsize // 2)
        fresh = [m for m in pending if m.id not in self._queued_ids]
        await self.submit(fresh)
        return len(fresh)

    async def _next_batch(self) -> list[Mention]:
        batch = [await self._queue.get()]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), timeout))
            except TimeoutError:
                break
        return batch

    async def _work(self) -> None:
        while not self._closing:
            batch = await self._next_batch()
            self._scoring_batch = True
            try:
                await self.score_batch(batch)
            except Exception:
                log.exception(
                    "scoring a batch of %d mentions failed; they stay unscored", len(batch)
                )
            finally:
                self._scoring_batch = False
                for mention in batch:
                    self._queued_ids.discard(mention.id or -1)

    async def score_batch(self, batch: list[Mention]) -> list[tuple[Mention, Score]]:
        """Score and store one batch, then notify listeners."""
        if not await self._ensure_scorer():
            return []
        scorer = self.scorer
        assert scorer is not None
        # The brand's names are masked: the claim embedding compares what is said about it.
        texts = [self.masker(m.text) if self.masker else m.text for m in batch]
        scores = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._score, scorer, texts
        )
        scored = list(zip(batch, scores, strict=True))
        await self.store.save_scores(scored, self.clock.now())
        self.scored_total += len(scored)
        if self.metrics is not None:
            self.metrics.mentions_scored.inc(len(scored))
        for listener in self._listeners:
            await listener(scored)
        return scored

    def _score(self, scorer: TextScorer, texts: list[str]) -> list[Score]:
        """Score on the scoring thread, then hand freed memory back (at most once a second)."""
        scores = scorer.score(texts)
        now = time.monotonic()
        if now - self._last_trim >= TRIM_INTERVAL:
            self._last_trim = now
            trim_heap()
        return scores

    async def flush(self) -> int:
        """Score everything queued, in batches, on the caller's task (virtual-time drivers)."""
        scored = 0
        while not self._queue.empty():
            batch: list[Mention] = []
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                scored += len(await self.score_batch(batch))
            finally:
                for mention in batch:
                    self._queued_ids.discard(mention.id or -1)
        return scored

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the batch being scored (bounded), then stop; the rest waits for the next start.

        Queued mentions are already stored: the sweep scores them after a restart, so a stop
        never waits for a deep queue or for the models to finish loading.
        """
        self._closing = True
        worker = self._tasks[0] if self._tasks else None
        if worker is not None and self._scoring_batch:
            await asyncio.wait({worker}, timeout=grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._queue.qsize():
            log.info("%d queued mentions will be scored at the next start", self._queue.qsize())
        self._executor.shutdown(wait=False, cancel_futures=True)
