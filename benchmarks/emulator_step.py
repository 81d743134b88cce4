"""Speed of the graph emulator network against Anemoi's small CPU configuration.

Anemoi's tiny CPU run (docs: shared research notes, measured on this kind of machine,
one thread): 2048 data cells (T21 Gaussian 64 x 32), 642 hidden nodes (icosahedron
level 3, multi-scale processor edges), cut-off encoder, k=3 decoder, batch 2, 14
input variables. Model forward+backward (no trainer): GNN 98 ms (189,716 parameters),
graph transformer 73 ms (195,508); forward alone 40 / 34 ms; whole Lightning
training steps 0.26 s / 0.16 s (busy machine).

Here the same sizes with ``wxai.emulator.models.GraphEmulatorNet`` at about 190K
parameters on the graph of ``wxai.emulator.graphs.build_graph`` with the ``GraphConfig``
defaults (the same layout), each processor measured in a fresh process (so peak memory
is its own):
forward+backward (compared with Anemoi's), forward+backward+AdamW step, forward with
autograd and forward under ``torch.no_grad``; median of ``--steps`` after warm-up.
Peak memory: growth of the process's maximum resident set size over the run
(``resource.getrusage``), which includes the autograd buffers torch allocates.

    python benchmarks/emulator_step.py [--steps 30] [--threads 1] [--compile] [--smoke]

The last columns time a whole training step of the Lightning module (loss, backward,
clipping, AdamW, schedule, logging) in a ``pl.Trainer``: the like of Anemoi's
whole-step figures.

Measured 2026-12-04 on the 2-core development machine while other jobs ran (load
average about 2), 2 x 14 inputs, 8 outputs, batch 2, one thread, median of 20,
forward+backward in ms (Anemoi's: GNN 98, graph transformer 73):

    eager (default)           GNN 62-66 (0.63-0.68)   GT 73-75 (1.00-1.03)
    eager, --scatter          GNN 59-69               GT 73-82
    --compile                 GNN 50.0 (0.51)         GT 51.1 (0.70), first step 4-80 s
    forward, eager / no_grad  GNN 24-25 / 22          GT 28-29 / 27   (Anemoi 40 / 34)
    whole Lightning step      GNN 74.8 (0.29 of 260)  GT 83.8 (0.52 of 160)

The runs varied by about 10 % with the other jobs. What got there: per-node
projections gathered to edges instead of per-edge MLP layers (the GNN's second
edge-MLP layer folded after the sum into the node MLP; the transformer's edge terms
kept ``D = 3`` wide per edge), node-major ``(N, B, C)`` tensors (no offset indices),
SiLU instead of GELU (GELU is 1.5x slower on this CPU), in-degree buckets for the
multi-mesh and the decoder (same speed as scatter here, less memory). Raising glibc's malloc
thresholds (mallopt) made no clear difference in a fresh process, so it was dropped.
torch.compile saves a further 20-30 % once compiled.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Callable

ANEMOI_MS = {  # forward+backward, forward, whole Lightning step
    "gnn": (98.0, 40.0, 260.0),
    "graph_transformer": (73.0, 34.0, 160.0),
}
BATCH, INPUT_TIMES, N_INPUTS, N_OUTPUTS = 2, 2, 14, 8


def _graph():  # -> HeteroData
    """Anemoi's small graph on the T21 Gaussian grid (642 hidden nodes, 3-NN decoder)."""
    import numpy as np

    from wxai.emulator.graphs import GraphConfig, build_graph

    nodes, _ = np.polynomial.legendre.leggauss(32)  # 64 x 32 Gaussian grid, north first
    lat = np.rad2deg(np.arcsin(nodes))[::-1]
    lat, lon = np.meshgrid(lat, np.arange(64) * 360.0 / 64, indexing="ij")
    return build_graph(GraphConfig(), lat.ravel(), lon.ravel())  # ico3, cut-off 0.6, 3-NN


def _median_ms(run: Callable[[], None], steps: int, warmup: int) -> tuple[float, float]:
    """Median wall-clock and median CPU time (this thread) of ``run`` in ms."""
    for _ in range(warmup):
        run()
    wall, cpu = [], []
    for _ in range(steps):
        start, start_cpu = time.perf_counter(), time.thread_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    return 1000.0 * statistics.median(wall), 1000.0 * statistics.median(cpu)


def measure(
    processor: str,
    *,
    steps: int,
    warmup: int,
    threads: int,
    compile_: bool,
    scatter: bool,
) -> dict[str, float]:
    """Timings (ms), parameter count and peak-memory growth (MB) of one processor."""
    import torch

    if scatter:
        from wxai.emulator.models import layers

        layers.MAX_DEGREE_BUCKETS = 0

    from wxai.emulator.models import GraphEmulatorNet
    from wxai.emulator.models.config import BENCHMARK_CONFIGS
    from wxai.nn.mlp import count_parameters

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    net = GraphEmulatorNet(BENCHMARK_CONFIGS[processor], _graph(), INPUT_TIMES, N_INPUTS, N_OUTPUTS)
    model = torch.compile(net) if compile_ else net
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    x = torch.randn(BATCH, INPUT_TIMES, net.n_data, N_INPUTS)
    target = torch.randn(BATCH, net.n_data, N_OUTPUTS)

    def forward_backward() -> None:
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(model(x), target).backward()

    def train_step() -> None:
        forward_backward()
        optimizer.step()

    def forward_grad() -> None:
        model(x).sum()

    def forward_inference() -> None:
        with torch.no_grad():
            model(x)

    start = time.perf_counter()
    train_step()
    first = time.perf_counter() - start
    result: dict[str, float] = {"parameters": count_parameters(net), "first_step_s": first}
    result["fwd_bwd"], result["fwd_bwd_cpu"] = _median_ms(forward_backward, steps, warmup)
    result["step"], _ = _median_ms(train_step, steps, warmup)
    result["fwd"], _ = _median_ms(forward_grad, steps, warmup)
    result["fwd_nograd"], _ = _median_ms(forward_inference, steps, warmup)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["peak_mb"] = (rss_peak - rss_start) / 1024.0  # ru_maxrss is in KiB on Linux
    return result


def measure_lightning(
    processor: str, *, steps: int, warmup: int, threads: int, compile_: bool
) -> float:
    """Median wall-clock time (ms) of a whole Lightning training step, like Anemoi's 0.26/0.16 s.

    The step of :class:`~wxai.emulator.training.module.EmulatorModule`: normalisation,
    one-step area-weighted loss, backward, gradient clipping, AdamW and the lr schedule,
    logging; data come from an in-memory loader, so data loading is not timed.
    """
    import pytorch_lightning as pl
    import torch
    from torch.utils.data import DataLoader

    from wxai.emulator.models import GraphEmulatorNet
    from wxai.emulator.models.config import BENCHMARK_CONFIGS
    from wxai.emulator.training.config import RolloutSchedule, TrainingSection
    from wxai.emulator.training.emulator import Emulator
    from wxai.emulator.training.module import EmulatorModule

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    hetero = _graph()
    net = GraphEmulatorNet(BENCHMARK_CONFIGS[processor], hetero, INPUT_TIMES, N_INPUTS, N_OUTPUTS)
    names = [f"x{i}" for i in range(N_INPUTS)]
    emulator = Emulator(
        net,
        variables=names,
        prognostic=names[:N_OUTPUTS],
        mean=[0.0] * N_INPUTS,
        stdev=[1.0] * N_INPUTS,
        increment_stdev=[1.0] * N_OUTPUTS,
        multistep_input=INPUT_TIMES,
    )
    if compile_:
        emulator.compile_network()
    training = TrainingSection(warmup_steps=10, rollout=RolloutSchedule())
    module = EmulatorModule(emulator, hetero["data"].area_weight, training, signature={})
    samples = torch.randn(BATCH * (steps + warmup), INPUT_TIMES + 1, net.n_data, N_INPUTS)
    times: list[float] = []

    class Timer(pl.Callback):
        def on_train_batch_start(self, *args: object) -> None:
            self.start = time.perf_counter()

        def on_train_batch_end(self, *args: object) -> None:
            times.append(time.perf_counter() - self.start)

    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        gradient_clip_val=1.0,
        callbacks=[Timer()],
        limit_val_batches=0,
    )
    trainer.fit(module, DataLoader(samples, batch_size=BATCH))
    return 1000.0 * statistics.median(times[warmup:])


def main(argv: list[str] | None = None) -> None:
    """Measure each processor in its own process and print a table beside Anemoi's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="timed repetitions (median)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--compile", action="store_true", help="torch.compile the network")
    parser.add_argument(
        "--processors", nargs="+", default=["gnn", "graph_transformer"], choices=list(ANEMOI_MS)
    )
    parser.add_argument(
        "--scatter",
        action="store_true",
        help="scatter layout for every edge set (default: degree buckets where they fit)",
    )
    parser.add_argument("--smoke", action="store_true", help="2 steps, 1 warm-up (tests)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.warmup = 2, 1

    print(
        f"emulator network, batch {BATCH}, {INPUT_TIMES} x {N_INPUTS} inputs, {N_OUTPUTS} outputs, "
        f"{args.threads} thread(s), compile: {args.compile}, "
        f"layout: {'scatter' if args.scatter else 'buckets where they fit'}, "
        f"median of {args.steps} after {args.warmup} warm-up"
    )
    header = (
        f"{'processor':<18} {'params':>8} {'fwd+bwd':>8} {'Anemoi':>7} {'ratio':>6} {'cpu':>6} "
        f"{'+AdamW':>7} {'fwd':>6} {'Anemoi':>7} {'no_grad':>8} {'peak MB':>8} {'1st s':>6} "
        f"{'Lightning':>9} {'Anemoi':>7} {'ratio':>6}"
    )
    print(header)
    context = multiprocessing.get_context("spawn")
    for processor in args.processors:
        with context.Pool(1) as pool:
            r = pool.apply(
                measure,
                (processor,),
                {
                    "steps": args.steps,
                    "warmup": args.warmup,
                    "threads": args.threads,
                    "compile_": args.compile,
                    "scatter": args.scatter,
                },
            )
            lightning = pool.apply(
                measure_lightning,
                (processor,),
                {
                    "steps": args.steps,
                    "warmup": args.warmup,
                    "threads": args.threads,
                    "compile_": args.compile,
                },
            )
        ref_fb, ref_f, ref_step = ANEMOI_MS[processor]
        print(
            f"{processor:<18} {r['parameters']:>8,} {r['fwd_bwd']:>8.1f} {ref_fb:>7.0f} "
            f"{r['fwd_bwd'] / ref_fb:>6.2f} {r['fwd_bwd_cpu']:>6.1f} {r['step']:>7.1f} "
            f"{r['fwd']:>6.1f} {ref_f:>7.0f} "
            f"{r['fwd_nograd']:>8.1f} {r['peak_mb']:>8.1f} {r['first_step_s']:>6.2f} "
            f"{lightning:>9.1f} {ref_step:>7.0f} {lightning / ref_step:>6.2f}"
        )
        sys.stdout.flush()
    print(
        "times in ms (wall clock; cpu: CPU time of the thread, less sensitive to other "
        "processes); ratio = our forward+backward / Anemoi's model forward+backward "
        "(98 ms GNN, 73 ms GT); Lightning: a whole training step of EmulatorModule against "
        "Anemoi's whole Lightning step (260 / 160 ms, busy machine)"
    )


if __name__ == "__main__":
    main()
