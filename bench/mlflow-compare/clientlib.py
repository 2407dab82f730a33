"""What the two MLflow Python clients of the comparison share: their own CPU
time, the start signal of the driver, the call-latency summary."""

import resource
import sys


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def wait_start(ready):
    """With --ready: print READY, wait for the driver's go (a line on stdin)."""
    if ready:
        print("READY", flush=True)
        sys.stdin.readline()


def percentiles(calls):
    """Median, 99th percentile and maximum of calls (seconds), in microseconds."""
    if not calls:
        return 0, 0, 0
    calls.sort()
    n = len(calls)
    return calls[n // 2] * 1e6, calls[min(n - 1, n * 99 // 100)] * 1e6, calls[-1] * 1e6
