"""The one place that builds onnxruntime ``InferenceSession``s: provider choice, GPU readiness, reuse.

onnxruntime-gpu lists CUDA among the *available* providers even on a machine without a GPU; asked for
CUDA there, it logs a load error and silently runs on the CPU. So the truth is what a session actually
got (``session.get_providers()``), and that is what every function here reports and checks.

- CUDA is requested only when the machine shows an NVIDIA driver (otherwise there is nothing to try and
  onnxruntime would only print a scary error); the result is then checked on the session itself.
- ``require_gpu=True`` turns "ended up on the CPU" into :class:`GpuRequired` instead of a slow success.
- Sessions are cached per (file, mtime, device): a worker loads each graph once and reuses it.
- CPU threads follow the process's :class:`CpuPlan` (:func:`cpu_plan`, set once per process with
  :func:`set_cpu_plan`): intra-op threads from the CPUs this process may run on (its affinity, as ``taskset``
  or a container's cpuset leave it) shared among the jobs that run at once; threads never spin when the cores
  are shared, so one worker's idle pool does not burn the core another worker computes on.
- On CUDA, :class:`Graph` runs through IOBinding and can keep per-job constants (text embeddings, time
  ids) resident on the device across steps.
"""

from __future__ import annotations

import base64
import contextvars
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
DEVICES = ("auto", "cuda", "cpu")

# A minimal ONNX model (one Identity node, opset 13), made with onnx.helper; used to learn which
# provider a session really gets here without loading a real model.
_PROBE_MODEL = base64.b64decode(
    "CAgSBXByb2JlOjsKEAoBeBIBeSIISWRlbnRpdHkSBXByb2JlWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ=="
)


class GpuRequired(RuntimeError):
    """``require_gpu`` is set and a session could not be placed on a GPU."""


@dataclass(frozen=True)
class ProviderReport:
    """What sessions get on this machine (the answer of a real probe session)."""

    provider: str  # the first provider the probe session got
    device: str  # "cuda" | "cpu"
    available: tuple[str, ...]  # what onnxruntime lists (not proof of anything)
    reason: str  # why this device (shown by `models list` and readiness)
    onnxruntime: str = ort.__version__

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "device": self.device,
            "available": list(self.available),
            "reason": self.reason,
            "onnxruntime": self.onnxruntime,
        }


def nvidia_driver_present() -> bool:
    """True when the kernel shows an NVIDIA driver (a cheap precondition for trying CUDA)."""
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()


def _requested_providers(device: str) -> tuple[list[Any], str]:
    """Providers to ask for and why, for ``device`` in auto/cuda/cpu."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    available = ort.get_available_providers()
    if device == "cpu":
        return [CPU], "CPU requested"
    if CUDA not in available:
        return [CPU], "this onnxruntime build has no CUDA provider"
    if device == "auto" and not nvidia_driver_present():
        return [CPU], "no NVIDIA driver on this machine"
    cuda_options = {
        "arena_extend_strategy": "kSameAsRequested",
        "cudnn_conv_algo_search": "HEURISTIC",
        "do_copy_in_default_stream": "1",
    }
    return [(CUDA, cuda_options), CPU], "CUDA requested"


@dataclass(frozen=True)
class CpuPlan:
    """How a process's sessions use the CPU: ``threads`` intra-op threads each; ``spinning`` lets idle pool
    threads busy-wait for the next operator (faster alone on its cores, a waste when others share them)."""

    threads: int
    spinning: bool


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask (``taskset``, cgroup cpusets), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_plan(concurrent: int = 1, threads: int = 0) -> CpuPlan:
    """The plan for a process that runs ``concurrent`` jobs at once on the CPUs it may use, where other
    processes run the rest (``concurrent`` = worker processes × jobs per worker). ``threads`` > 0 overrides.

    Threads: usable CPUs // concurrent (at least 1). Spinning only when a single job has the CPUs to itself.
    """
    cpus = usable_cpus()
    concurrent = max(1, concurrent)
    count = threads if threads > 0 else max(1, cpus // concurrent)
    return CpuPlan(threads=count, spinning=concurrent == 1 and count <= cpus)


_plan = CpuPlan(threads=0, spinning=True)  # onnxruntime's own defaults until a process sets its plan


def set_cpu_plan(plan: CpuPlan) -> None:
    """Use ``plan`` for every session this process builds from now on (workers call it once at start)."""
    global _plan
    _plan = plan


ARENA_SAME_AS_REQUESTED = 1  # onnxruntime's ArenaExtendStrategy::kSameAsRequested (0: kNextPowerOfTwo)
# Run options that shrink the CPU arena at the end of a run (onnxruntime's memory.enable_memory_arena_shrinkage).
RELEASE_AFTER_RUN = ort.RunOptions()
RELEASE_AFTER_RUN.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
# Set inside :func:`releasing_arena`: every CPU run in this thread (context) releases, whatever its caller asked.
_release_all = contextvars.ContextVar("release_all", default=False)
_cpu_arena_lock = threading.Lock()
_cpu_arena_registered = False


def register_cpu_arena() -> None:
    """Register, once per process, the CPU arena that every CPU session uses (``session.use_env_allocators``):
    one that grows by what a run asks for, not to the next power of two.

    onnxruntime's default arena doubles each extension, so its chunks outgrow what a run uses at once and keep
    growing over runs: u2netp-int8 at 320², one core, held 262 MB after one run and 297 MB after eight; grown
    by the size requested it holds 259 MB from the first run on, at the same CPU time per run (287 vs 284 ms,
    median of 7) and with the same outputs (docs/progress/issue-14.md, "Memory at 40 MP, session 4"). That
    held memory is part of every model job's peak (the 12 bytes per input pixel of issue 14).
    """
    global _cpu_arena_registered
    with _cpu_arena_lock:
        if _cpu_arena_registered:
            return
        memory = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
        ort.create_and_register_allocator(memory, ort.OrtArenaCfg({"arena_extend_strategy": ARENA_SAME_AS_REQUESTED}))
        _cpu_arena_registered = True


@contextmanager
def releasing_arena() -> Iterator[None]:
    """Within the block, every CPU run of this thread hands the arena back at its end (``Graph.run(release=True)``).

    For runs whose memory should not stay held after them whatever their size: a worker's warm-up, so that an
    idle worker holds no arena (a kept arena raised a fresh worker's 40 MP peak from ~451 to 478-502 MB:
    docs/progress/issue-14.md, "Memory at 40 MP, session 4").
    """
    token = _release_all.set(True)
    try:
        yield
    finally:
        _release_all.reset(token)


def session_options(plan: CpuPlan | None = None, *, on_cpu: bool = False) -> ort.SessionOptions:
    """Options every session gets: full graph optimisation, quiet logs, the CPU plan's threads and spinning;
    on the CPU provider (``on_cpu``) no memory pattern and the process's shared CPU arena
    (:func:`register_cpu_arena`)."""
    plan = plan or _plan
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # The CPU arena stays on (onnxruntime's default, as in optimum): without it every run re-faults its
    # activations from the OS (measured on the tiny UNet at 256²: 2-4x slower per step, half the peak RSS;
    # u2netp at 320², one core: 600 vs 450 ms CPU time per run).
    if on_cpu:
        # The memory pattern pre-plans one block per input shape on top of the arena: without it u2netp's peak
        # RSS at 320² falls from 555 to 361 MB and the tiny UNet's from 353 to 214 MB at the same CPU time per
        # run (bench/bench_worker_rss.py; figures in docs/progress/issue-10-delivery.md).
        opts.enable_mem_pattern = False
        register_cpu_arena()
        opts.add_session_config_entry("session.use_env_allocators", "1")
    if plan.threads:
        opts.intra_op_num_threads = plan.threads
        opts.inter_op_num_threads = 1  # sequential execution: operators in order, each using the intra-op pool
    if not plan.spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return opts


# Graph optimisers left out of every CPU session. onnxruntime's NhwcTransformer runs each QLinearConv (a quantised
# convolution) channels-last and puts a Transpose on each side of it; in a partly quantised graph such as
# u2netp-int8 (53 of its 119 convolutions int8, the float ones in onnxruntime's blocked NCHWc layout between them)
# those Transposes cost more than the channels-last kernel saves: without it the same convolutions run channels-first
# in the same kernel (a QLinearConv with channels_last 0), the outputs are bit-identical and a 320² run takes ~4 %
# less CPU time (docs/progress/issue-10-quality.md, "Speed, session 9"). It changes nothing in a float graph
# (on x86 it only takes quantised operators).
CPU_DISABLED_OPTIMIZERS = ("NhwcTransformer",)


def create_session(
    model: Path | bytes, *, device: str = "auto", require_gpu: bool = False, plan: CpuPlan | None = None
) -> ort.InferenceSession:
    """Build one session (uncached) with ``plan`` (default: the process's) and check where it really landed.
    A CPU session leaves out the optimisers of :data:`CPU_DISABLED_OPTIMIZERS`."""
    providers, reason = _requested_providers(device)
    source = model if isinstance(model, bytes) else str(model)
    on_cpu = providers == [CPU]
    session = ort.InferenceSession(
        source,
        session_options(plan, on_cpu=on_cpu),
        providers=providers,
        disabled_optimizers=list(CPU_DISABLED_OPTIMIZERS) if on_cpu else None,
    )
    got = session.get_providers()
    if providers[0] != CPU and got[0] != CUDA:
        reason = "CUDA was requested but the session fell back to the CPU (CUDA/cuDNN libraries or GPU missing)"
        log.warning("%s: %s", model if isinstance(model, Path) else "probe", reason)
    if require_gpu and got[0] != CUDA:
        raise GpuRequired(f"require_gpu is set but the session runs on {got[0]}: {reason}")
    return session


@lru_cache(maxsize=4)
def probe(device: str = "auto") -> ProviderReport:
    """Which provider sessions get here, learned from a real (tiny) session. Cached per process."""
    providers, reason = _requested_providers(device)
    session = create_session(_PROBE_MODEL, device=device)
    got = session.get_providers()[0]
    if providers[0] != CPU and got != CUDA:
        reason = "CUDA was requested but the session fell back to the CPU (CUDA/cuDNN libraries or GPU missing)"
    elif got == CUDA:
        reason = "CUDA session created"
    return ProviderReport(
        provider=got,
        device="cuda" if got == CUDA else "cpu",
        available=tuple(ort.get_available_providers()),
        reason=reason,
    )


def check_ready(require_gpu: bool, device: str = "auto") -> ProviderReport:
    """Readiness check: the provider report, or GpuRequired when a GPU is required and not usable."""
    report = probe(device)
    if require_gpu and report.device != "cuda":
        raise GpuRequired(f"require_gpu is set but inference would run on the CPU: {report.reason}")
    return report


_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def _as_float32(value: np.ndarray) -> np.ndarray:
    return value.astype(np.float32) if value.dtype == np.float16 else value


def _contiguous(array: np.ndarray) -> np.ndarray:
    """C-contiguous without changing the rank (``np.ascontiguousarray`` turns a 0-d timestep into 1-d)."""
    array = np.asarray(array)
    return array if array.flags.c_contiguous else array.copy(order="C")


class Graph:
    """One loaded graph: named inputs/outputs, run by name, IOBinding on CUDA.

    ``binding_device`` is where IOBinding puts outputs and resident values: "cuda" for a CUDA session, None
    (plain ``run``) otherwise; tests pass "cpu" to exercise the binding path without a GPU.
    """

    def __init__(
        self, session: ort.InferenceSession, path: Path | None = None, binding_device: str | None = "auto"
    ) -> None:
        self.session = session
        self.path = path
        self.inputs = {i.name: i for i in session.get_inputs()}
        self.outputs = [o.name for o in session.get_outputs()]
        # fp16 graphs (GPU exports) take float16; callers always hand float32 and get float32 back.
        self.dtypes = {n: _FLOAT_TYPES[i.type] for n, i in self.inputs.items() if i.type in _FLOAT_TYPES}
        self.provider = session.get_providers()[0]
        self.on_gpu = self.provider == CUDA
        if binding_device == "auto":
            binding_device = "cuda" if self.on_gpu else None
        self.binding_device = binding_device

    def input_rank(self, name: str) -> int:
        return len(self.inputs[name].shape)

    def resident(self, name: str, array: np.ndarray) -> Any:
        """Input ``name``'s value kept on the device across runs (an OrtValue; on plain CPU the array)."""
        array = self._cast(name, array)
        if self.binding_device is None:
            return array
        return ort.OrtValue.ortvalue_from_numpy(_contiguous(array), self.binding_device, 0)

    def _cast(self, name: str, value: Any) -> Any:
        want = self.dtypes.get(name)
        if want is None or isinstance(value, ort.OrtValue) or np.asarray(value).dtype == want:
            return value
        return np.asarray(value).astype(want)

    def run(
        self, feeds: Mapping[str, Any], outputs: list[str] | None = None, *, release: bool = False
    ) -> dict[str, np.ndarray]:
        """Run with ``feeds`` (numpy arrays or values from :meth:`resident`); return numpy outputs.

        ``release``: on the CPU, hand the arena's chunks that the run no longer uses back to the C allocator at
        its end (:data:`RELEASE_AFTER_RUN`), so that the caller's arrays reuse that memory instead of adding to it;
        always inside :func:`releasing_arena`.
        """
        release = release or _release_all.get()
        names = outputs or self.outputs
        feeds = {name: self._cast(name, value) for name, value in feeds.items()}
        if self.binding_device is None:
            values = self.session.run(names, feeds, RELEASE_AFTER_RUN if release and not self.on_gpu else None)
            return {n: _as_float32(v) for n, v in zip(names, values, strict=True)}
        binding = self.session.io_binding()
        for name, value in feeds.items():
            if isinstance(value, ort.OrtValue):
                binding.bind_ortvalue_input(name, value)
            else:
                binding.bind_cpu_input(name, _contiguous(value))
        for name in names:
            binding.bind_output(name, self.binding_device, 0)
        self.session.run_with_iobinding(binding)
        return {n: _as_float32(v) for n, v in zip(names, binding.copy_outputs_to_cpu(), strict=True)}


_cache: dict[tuple[str, int, str, bool, str | None], Graph] = {}
_cache_lock = threading.Lock()


def load_graph(path: Path, *, device: str = "auto", require_gpu: bool = False, free_size: str | None = None) -> Graph:
    """The cached :class:`Graph` for ``path`` (loaded once per process per file version, device and ``free_size``).

    ``free_size``: the name of an NCHW image input whose height and width the session takes free
    (:func:`.free_size.free_input_size`, done in memory: the file is only read); None: the graph as the file
    declares it.
    """
    resolved = path.resolve()
    key = (str(resolved), resolved.stat().st_mtime_ns, device, require_gpu, free_size)
    with _cache_lock:
        graph = _cache.get(key)
        if graph is None:
            model: Path | bytes = resolved
            if free_size is not None:
                from .free_size import free_input_size  # onnx is imported only for a graph that needs it

                model = free_input_size(resolved.read_bytes(), free_size)
            graph = Graph(create_session(model, device=device, require_gpu=require_gpu), resolved)
            _cache[key] = graph
        return graph


def prune_cache() -> int:
    """Drop cached graphs whose file is gone or was replaced since it was loaded; returns how many."""

    def current(key: tuple[str, int, str, bool, str | None]) -> bool:
        try:
            return os.stat(key[0]).st_mtime_ns == key[1]
        except FileNotFoundError:
            return False

    with _cache_lock:
        stale = [k for k in _cache if not current(k)]
        for k in stale:
            del _cache[k]
    return len(stale)


def clear_cache() -> None:
    """Drop every cached session (tests; a model removed from the store)."""
    with _cache_lock:
        _cache.clear()
    probe.cache_clear()
