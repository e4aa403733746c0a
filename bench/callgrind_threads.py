"""Instructions per unit of work, by thread, from callgrind's files (one per thread).

    python3 bench/callgrind_threads.py DIR COUNT UNIT

DIR holds callgrind's `cg.out*` files of a daemon run with `--separate-threads=yes`; COUNT is
how many units of work it did ("starts", "Task executions"). The writer's thread is the one
that ran the writer's loop; the runtime's workers ran its scheduler. valgrind gives a new
thread the number of one that has ended, and the file of that number then holds both: the
writer's can hold the start-up's. The total is exact.
"""

import glob
import os
import re
import sys


def main() -> None:
    data, n, unit = sys.argv[1], max(int(sys.argv[2]), 1), sys.argv[3]
    workers, writer, other = 0, 0, 0
    for path in glob.glob(os.path.join(data, "cg.out*")):
        with open(path, errors="replace") as f:
            text = f.read()
        m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(
            r"^totals:\s+(\d+)", text, re.M
        )
        total = int(m.group(1)) if m else 0
        if "hourglass::store::sqlite::writer::run" in text:
            writer += total
        elif "tokio::runtime::scheduler::multi_thread::worker" in text:
            workers += total
        else:
            other += total
    print(
        f"{n} {unit}; instructions per one: the writer {writer / n:,.0f}, "
        f"the runtime's workers {workers / n:,.0f}, other threads {other / n:,.0f}, "
        f"all {(writer + workers + other) / n:,.0f}"
    )


if __name__ == "__main__":
    main()
