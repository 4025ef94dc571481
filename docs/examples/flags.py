"""A thread and an asyncio task race for a flag and bump into a resource guard."""

import asyncio
import threading

import aiologic

winner = aiologic.Flag()  # holds at most one marker: the first set() wins
guard = aiologic.ResourceGuard(action="writing to")
inside = aiologic.Event()  # the thread is inside the guard
may_leave = aiologic.Event()  # the task tried the guard


def thread_side(outcome: list[bool]) -> None:
    outcome.append(winner.set("thread"))  # True only if this call stored its marker
    with guard:  # never waits
        inside.set()
        may_leave.wait()


async def main() -> None:
    outcome: list[bool] = []
    thread = threading.Thread(target=thread_side, args=(outcome,))
    thread.start()
    outcome.append(winner.set("task"))

    await inside  # ordering by an event, not by sleeping
    print("exactly one setter won:", sorted(outcome) == [False, True])
    print("the flag holds:", winner.get() in ("thread", "task"))
    try:
        with guard:
            print("unreachable: the thread is inside")
    except aiologic.BusyResourceError as error:
        print("BusyResourceError:", error)
    finally:
        may_leave.set()
    thread.join()

    with guard:  # free again
        print("entered after the thread left:", bool(guard))
    winner.clear()
    print("after clear():", winner.get(default=None))


asyncio.run(main())
