#!/usr/bin/env python3
"""Times whole processes by rotation: every command once per round, in turn, for ROUNDS rounds,
so a slow minute of a shared machine costs every command alike. Prints the medians.

    python3 benches/rotate.py ROUNDS DIR NAME=COMMAND...

Each COMMAND runs in DIR through the shell (so `*.yaml` and `env VAR=...` work), stdout to
/dev/null. Wall time is time.perf_counter around the run; CPU time is the change in
getrusage(RUSAGE_CHILDREN), user and system, to the microsecond. Each column's median is taken
on its own, so user and system need not add up to CPU. A command that fails stops the run.
This is the method of BENCHMARKS.md's rotation table.
"""

import resource
import statistics
import subprocess
import sys
import time


def run(command, directory):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, shell=True, cwd=directory, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    system = after.ru_stime - before.ru_stime
    return wall, user + system, user, system


def main():
    if len(sys.argv) < 4 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    rounds, directory = int(sys.argv[1]), sys.argv[2]
    commands = [argument.split("=", 1) for argument in sys.argv[3:]]
    times = {name: [] for name, _ in commands}
    for _ in range(rounds):
        for name, command in commands:
            times[name].append(run(command, directory))
    print(f"{'':12} {'wall':>9} {'CPU':>9} {'user':>9} {'system':>9}  (ms, medians of {rounds})")
    for name, _ in commands:
        columns = zip(*times[name])
        medians = [statistics.median(column) * 1000 for column in columns]
        print(f"{name:12} " + " ".join(f"{value:9.1f}" for value in medians))


if __name__ == "__main__":
    main()
