"""Results appended to the output from inside the event loop, in groups, without ever stopping the loop.

An fsynced append takes milliseconds. Done on the event loop, it would leave one server slot idle per item
for that long, and cap a run at a few hundred items a second however many GPUs answer. `Appender` hands the
appends to a thread, one group at a time, and writes whatever arrived meanwhile as the next group (one fsync
for many lines), so the loop keeps every slot busy. A result counts (`on_written`) only once its line is on
disk; at most `limit` results wait for the writer, so `kill -9` loses at most the requests in flight and the
answers that arrived during the last write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, Self, TypeVar

T = TypeVar("T")


class Appender(Generic[T]):
    """An async context manager: `put` results in; on exit, everything put is written (or its error raised)."""

    def __init__(self, write: Callable[[list[T]], None], on_written: Callable[[list[T]], None], limit: int) -> None:
        self._write = write  # blocking: runs in a worker thread
        self._on_written = on_written  # runs on the loop after each group is on disk; may raise to stop the run
        self._queue: asyncio.Queue[T | None] = asyncio.Queue(maxsize=max(1, limit))
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._drain())
        return self

    async def put(self, item: T) -> None:
        """Queue one result, waiting while `limit` are queued; raises the writer's error once it has stopped."""
        assert self._task is not None
        queued = asyncio.ensure_future(self._queue.put(item))
        try:
            await asyncio.wait({queued, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not queued.done():  # the writer stopped, or the run was cancelled (Ctrl-C) while waiting
                queued.cancel()
        if self._task.done():
            self._task.result()  # raises what stopped the writer

    async def __aexit__(self, *exc: object) -> None:
        """Write what is queued and stop the writer; raise its error, if it had one."""
        assert self._task is not None
        if not self._task.done():
            await self._queue.put(None)  # the writer is running, so there will be room
        await self._task

    async def _drain(self) -> None:
        """Write groups until the end marker: the first result waited for, plus every one already queued."""
        while True:
            first = await self._queue.get()
            group = [] if first is None else [first]
            end = first is None
            while not end and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    end = True
                else:
                    group.append(item)
            if group:
                await asyncio.to_thread(self._write, group)
                self._on_written(group)
            if end:
                return
