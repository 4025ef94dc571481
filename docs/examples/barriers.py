"""Two threads and an asyncio task meet at the same barriers."""

import asyncio
import threading

import aiologic

started = aiologic.Latch(3)  # single use: all three have started
phase = aiologic.Barrier(3)  # cyclic: every three arrivals pass together
log: list[str] = []


def thread_party(name: str) -> None:
    started.wait()  # green side
    for step in range(2):
        with phase as index:  # waits on entry; aborts the barrier on an exception
            log.append(f"step {step}: {name} arrived #{index}")


async def task_party() -> None:
    await started  # async side
    for step in range(2):
        async with phase as index:
            log.append(f"step {step}: task arrived #{index}")


async def main() -> None:
    threads = [threading.Thread(target=thread_party, args=(f"thread-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    await task_party()
    for thread in threads:
        thread.join()

    # Nobody can overtake a phase: all of step 0 comes before any of step 1.
    steps = [entry.split(":")[0] for entry in log]
    print("phases in order:", steps == ["step 0"] * 3 + ["step 1"] * 3)
    print("indices per phase:", sorted(int(entry[-1]) for entry in log[:3]))

    # A wait that times out breaks the barrier for everyone.
    lonely = aiologic.Barrier(2)
    try:
        await lonely.with_(timeout=0.01)
    except aiologic.BrokenBarrierError:
        print("broken:", lonely.broken)


asyncio.run(main())
