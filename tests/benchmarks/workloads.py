"""Legacy workloads written for the standard library alone, run in a fresh interpreter by
``bench_patched.py``: ``python workloads.py NAME OPS [--patched]`` prints the seconds the workload took.
With ``--patched``, ``aiologic.patch_all()`` runs before anything else is imported.
"""

from __future__ import annotations

import sys
import time


def executor(ops: int) -> float:
    """A ThreadPoolExecutor running many small tasks."""
    from concurrent.futures import ThreadPoolExecutor

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(pow, 2, index % 64) for index in range(ops)]:
            future.result()
    return time.perf_counter() - start


def logging_pipeline(ops: int) -> float:
    """Records through a QueueHandler into a QueueListener thread that formats them into a buffer."""
    import io
    import logging
    import logging.handlers
    import queue

    records: queue.Queue[logging.LogRecord] = queue.Queue()
    listener = logging.handlers.QueueListener(records, logging.StreamHandler(io.StringIO()))
    logger = logging.getLogger("benchmark")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.handlers.QueueHandler(records))
    listener.start()
    start = time.perf_counter()
    for index in range(ops):
        logger.info("record %d", index)
    listener.stop()  # returns once the listener has handled every record
    return time.perf_counter() - start


def producer_consumer(ops: int) -> float:
    """Two threads over a bounded queue.Queue, with task_done/join."""
    import queue
    import threading

    items: queue.Queue[int] = queue.Queue(maxsize=64)

    def consume() -> None:
        for _ in range(ops):
            items.get()
            items.task_done()

    start = time.perf_counter()
    consumer = threading.Thread(target=consume)
    consumer.start()
    for index in range(ops):
        items.put(index)
    items.join()
    consumer.join()
    return time.perf_counter() - start


WORKLOADS = {"executor": executor, "logging": logging_pipeline, "queue": producer_consumer}


def main(argv: list[str]) -> None:
    if "--patched" in argv:
        import aiologic

        aiologic.patch_all()
    name, ops = argv[0], int(argv[1])
    print(WORKLOADS[name](ops))


if __name__ == "__main__":
    main(sys.argv[1:])
