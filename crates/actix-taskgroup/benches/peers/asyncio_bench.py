"""Python 3.11's asyncio.TaskGroup on the peer comparison's workloads, for the Rust harness.

Usage: python3 asyncio_bench.py WORKLOAD N ROUNDS
Prints the median time per child in nanoseconds. WORKLOAD is spawn_join or teardown.
"""
import asyncio
import statistics
import sys
import time


async def trivial(i):
    return i


async def spawn_join(n):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(trivial(i)) for i in range(n)]
    return sum(1 for t in tasks if t.done())


async def pending():
    await asyncio.Event().wait()


async def failing():
    raise RuntimeError("failed")


async def teardown(n):
    failed = 0
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(n):
                group.create_task(pending())
            group.create_task(failing())
    except* RuntimeError:
        failed = 1
    return n * failed


async def main(workload, n, rounds):
    run = {"spawn_join": spawn_join, "teardown": teardown}[workload]
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        handled = await run(n)
        samples.append((time.perf_counter_ns() - start) / n)
        assert handled == n
    print(statistics.median(samples))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
