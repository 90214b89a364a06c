"""How an LSTM's training time grows with the sequence length: it should grow linearly.

    python -m benchmarks.rnn_length [--lengths 10 25 100 400] [--seconds 1]

An LSTM (32 inputs, 64 hidden, batch 32) runs forward and backward over sequences of
several lengths. The work per step is the same at every length, so the time per step
should stay about flat; time per step that grows with the length is a sign of work
that grows as length^2 (minigrad had that until its RNN layers cut the sequence into
steps by halving, ``split_steps`` in minigrad/ops/recurrent.py; now each layer is one
op, minigrad/ops/recurrent.py).
"""

from __future__ import annotations

import argparse
import statistics
import time


def time_per_pass(length, seconds):
    """Median seconds of one forward + backward pass over a sequence of ``length`` steps."""
    import minigrad
    from minigrad import nn

    minigrad.manual_seed(0)
    lstm = nn.LSTM(32, 64, batch_first=True)
    x = minigrad.randn(32, length, 32)

    def step():
        output, _ = lstm(x)
        output.sum().backward()

    step()  # warm-up
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 3:
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 25, 100, 400])
    parser.add_argument("--seconds", type=float, default=1.0, help="timing per length")
    args = parser.parse_args(argv)
    print("| length | forward + backward | per step |")
    print("| ---: | ---: | ---: |")
    for length in args.lengths:
        seconds = time_per_pass(length, args.seconds)
        print(f"| {length} | {seconds * 1e3:.2f} ms | {seconds / length * 1e6:.1f} us |")


if __name__ == "__main__":
    main()
