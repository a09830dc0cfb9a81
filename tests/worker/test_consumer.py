"""The worker's heartbeat while a job runs."""

from __future__ import annotations

import threading

from redis.exceptions import ConnectionError

from tests.helpers import wait_for
from worker.consumer import beating


def heartbeat_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "heartbeat"]


def test_the_heartbeat_beats_while_the_block_runs_and_stops_with_it():
    beats = []
    with beating(lambda: beats.append(1), interval=0.01):
        wait_for(lambda: len(beats) >= 3, 5, "three beats")
        assert heartbeat_threads()
    assert not heartbeat_threads()  # joined: no beat can follow the block


def test_a_failed_beat_does_not_stop_the_heartbeat():
    calls = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("Redis blipped")

    with beating(flaky, interval=0.01):
        wait_for(lambda: len(calls) >= 3, 5, "beats after a failed one")
