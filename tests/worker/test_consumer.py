"""The worker's heartbeat while a job runs."""

from __future__ import annotations

import threading
import time

from redis.exceptions import ConnectionError

from worker.consumer import beating


def test_the_heartbeat_beats_while_the_block_runs_and_stops_after():
    beats = []
    with beating(lambda: beats.append(time.monotonic()), interval=0.02):
        time.sleep(0.3)
    count = len(beats)
    assert count >= 3
    time.sleep(0.1)
    assert len(beats) == count  # stopped with the block
    assert not [t for t in threading.enumerate() if t.name == "heartbeat"]


def test_a_failed_beat_does_not_stop_the_heartbeat():
    calls = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("Redis blipped")

    with beating(flaky, interval=0.02):
        time.sleep(0.2)
    assert len(calls) >= 3
