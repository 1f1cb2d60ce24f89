"""A rough training-time estimate shown before the first step, so nobody waits days by mistake.

LoRA training costs about 4 floating-point operations per base parameter per token (forward, and the
backward pass through frozen weights). Divided by what a device sustains on such work, that gives the
time of one step; the figures are deliberately round and the estimate says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from hcap_tui.train.progress import duration

FLOPS_PER_PARAMETER_TOKEN = 4
# Sustained training throughput, in FLOP/s: a few CPU cores, and a T4-class GPU with 16-bit kernels.
SUSTAINED = {"cpu": 2e10, "cuda": 8e12}
STEP_OVERHEAD_S = {"cpu": 0.05, "cuda": 0.2}
# Beyond this a run is not worth starting on the device: say so and name the alternative.
TOO_LONG_S = 12 * 3600


@dataclass(frozen=True)
class Estimate:
    """Seconds a run should take, and a warning when that is unreasonable on this device."""

    seconds: float
    warning: str | None

    def line(self, steps: int, device: str) -> str:
        """`about 3 min for 75 steps on cuda (a rough estimate)`."""
        return f"about {duration(self.seconds)} for {steps} steps on {device} (a rough estimate)"


def estimate(parameters: int, tokens_per_step: float, steps: int, device: str) -> Estimate:
    """How long `steps` optimiser steps of `tokens_per_step` tokens take for a model of `parameters`."""
    per_step = FLOPS_PER_PARAMETER_TOKEN * parameters * tokens_per_step / SUSTAINED[device] + STEP_OVERHEAD_S[device]
    seconds = per_step * steps
    warning = None
    if seconds > TOO_LONG_S:
        size = f"{parameters / 1e9:.1f}B" if parameters >= 1e8 else f"{parameters / 1e6:.0f}M"
        where = "on CPU" if device == "cpu" else "on this GPU"
        warning = (
            f"a {size}-parameter model {where} needs about {duration(seconds)}: train on a GPU (the Colab notebook "
            "runs on a free T4) or use the 1B model"
        )
    return Estimate(seconds, warning)
