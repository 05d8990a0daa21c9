"""How long the command line takes to answer help and config errors, against importing torch.

Each case runs in a fresh interpreter (median of ``--repeat`` runs, interleaved so machine load
hits every case alike): ``--help``, ``train --help``, config errors found while loading the
config (an unknown key, a value out of range, an unknown device, a bad choice that needs a
registry), and, for reference, ``import torch, lightning`` alone: what every one of these paid
when the command line imported its libraries up front. The ratio column is each case over that
reference, measured in the same run.

    PYTHONPATH=src python bench/cli_startup.py [--repeat 5] [--src path/to/other/src]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI = ["-m", "dfdetect.cli.main"]
CASES = {
    "import torch, lightning (reference)": ["-c", "import torch, lightning"],
    "dfdetect --help": [*CLI, "--help"],
    "dfdetect train --help": [*CLI, "train", "--help"],
    "train lrr=0.1 (unknown key)": [*CLI, "train", "lrr=0.1"],
    "train lr=-1 (out of range)": [*CLI, "train", "lr=-1"],
    "train device=cuda:9 (unknown device)": [*CLI, "train", "device=cuda:9"],
    "train loss=focl (registry choice)": [*CLI, "train", "loss=focl"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--src", default=str(Path(__file__).resolve().parents[1] / "src"),
                    help="the dfdetect sources to time (another checkout's src/ for a before)")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": args.src}
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.repeat):
        for name, argv in CASES.items():
            t0 = time.perf_counter()
            subprocess.run([sys.executable, *argv], env=env, capture_output=True)
            times[name].append(time.perf_counter() - t0)
    ref = statistics.median(times[next(iter(CASES))])
    print(f"# {args.src} · median of {args.repeat} · load average {os.getloadavg()[0]:.1f}")
    print("| case | seconds | ratio to import torch, lightning |")
    print("|---|---|---|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} | {med / ref:.2f} |")


if __name__ == "__main__":
    main()
