"""One `manage.py match --full` against DATABASE_URL, timed and memory-sampled; then its quality.

    .venv/bin/python -m bench.match_once DATA_DIR [--workers N] [--broker URL]
                                                 [--partitions P] [--timeout SECONDS]

`--workers 0` (the default): no broker, the command runs every task in-process ("eager").
`--workers N`: N real Celery worker processes (`-c 1` each, prefork) are started on the
broker (a dedicated Redis database, flushed first), the command queues the run and waits
for it; the workers are stopped afterwards whatever happens, once idle after a success
(the finishing worker refreshes the planner statistics after the run's commit: the
real-time part measures the base as a deployment would leave it).

Measured: the wall time of the command (process start to exit) and the peak resident
memory of the command plus the workers (each worker is a main process and its one pool
child), sampled together every 0.1 s. This process only orchestrates and is not counted.

After the run: the run's counters and step timings (`rcu_matchrun`), then quality from
`export_links` (automatic links) and `export_candidates` (open candidates: the review
queue) against the data set's truth.csv. Prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BROKER = "redis://127.0.0.1:6379/14"
WORKER_READY_TIMEOUT = 120.0
PSS_EVERY = 10  # RSS samples per PSS sample
SUCCEEDED = re.compile(r"Matching run #(\d+) succeeded in ([0-9.]+) s")


class TreeMemory:
    """Samples the summed RSS of some process trees (each root and its descendants).

    Also the summed PSS (proportional set size, Linux), sampled ten times less often:
    forked processes (a prefork worker and its pool child) share pages that RSS counts
    once per process.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.roots: dict[str, list[int]] = defaultdict(list)  # role → root pids
        self.peak = 0
        self.peak_pss = 0
        self.peak_by_role: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._tree: dict[str, list[psutil.Process]] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def add(self, role: str, pid: int) -> None:
        with self._lock:
            self.roots[role].append(pid)
            self._tree = None  # look for its children at the next sample

    def _processes(self) -> dict[str, list[psutil.Process]]:
        with self._lock:
            roots = {role: list(pids) for role, pids in self.roots.items()}
        tree: dict[str, list[psutil.Process]] = {}
        for role, pids in roots.items():
            tree[role] = []
            for pid in pids:
                with contextlib.suppress(psutil.Error):  # it may have just exited
                    process = psutil.Process(pid)
                    tree[role] += [process, *process.children(recursive=True)]
        return tree

    def sample(self, pss: bool = True) -> tuple[dict[str, int], int]:
        """RSS by role, and the PSS of everything (0 unless asked: it costs more).

        The process trees are looked up again (a scan of every process) with PSS only;
        in between, the processes found last time are read."""
        with self._lock:
            tree = self._tree
        if tree is None or pss:
            tree = self._processes()
            with self._lock:
                self._tree = tree
        by_role: dict[str, int] = {}
        total_pss = 0
        for role, processes in tree.items():
            by_role[role] = 0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    by_role[role] += process.memory_info().rss
                if pss:
                    total_pss += _pss(process.pid)
        return by_role, total_pss

    def _run(self, interval: float) -> None:
        # RSS (/proc/PID/statm) every interval; PSS (smaps_rollup walks the page tables:
        # milliseconds for a big process) every PSS_EVERY intervals.
        n = 0
        while not self._stop.is_set():
            by_role, pss = self.sample(pss=n % PSS_EVERY == 0)
            n += 1
            self.peak = max(self.peak, sum(by_role.values()))
            self.peak_pss = max(self.peak_pss, pss)
            for role, rss in by_role.items():
                self.peak_by_role[role] = max(self.peak_by_role[role], rss)
            self._stop.wait(interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _mib(n: int) -> int:
    return round(n / 2**20)


def _stop_group(process: subprocess.Popen, grace: float = 30.0) -> None:
    """Terminate the process group `process` leads (it was started in its own session)."""
    if process.poll() is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # leftovers of an exited leader
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _flush_broker(broker: str) -> None:
    match = re.match(r"redis://([^:/]+)(?::(\d+))?/(\d+)$", broker)
    if not match:
        raise SystemExit(f"--broker must be redis://HOST[:PORT]/DB, not {broker!r}")
    host, port, db = match.group(1), match.group(2) or "6379", match.group(3)
    subprocess.run(["redis-cli", "-h", host, "-p", port, "-n", db, "flushdb"],
                   check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def _celery_control(broker: str):
    """A Celery app on the workers' broker, to ping and inspect them; closed after."""
    from celery import Celery

    app = Celery(broker=broker)
    try:
        yield app.control
    finally:
        app.close()


def _wait_for_workers(broker: str, names: list[str], workers: list[subprocess.Popen]) -> float:
    """Seconds until every worker answers a ping."""
    started = time.perf_counter()
    with _celery_control(broker) as control:
        while True:
            for process in workers:
                if process.poll() is not None:
                    raise RuntimeError(f"a worker exited with code {process.returncode}")
            replies = control.ping(destination=names, timeout=1.0)
            answered = {name for reply in replies for name in reply}
            if answered >= set(names):
                return time.perf_counter() - started
            if time.perf_counter() - started > WORKER_READY_TIMEOUT:
                raise RuntimeError(f"workers not ready after {WORKER_READY_TIMEOUT} s: {answered}")


def _wait_idle(broker: str, names: list[str], limit: float = 600.0) -> float:
    """Seconds until no worker runs a task: the run succeeds when its last transaction
    commits, and the worker then refreshes the planner statistics (VACUUM ANALYZE);
    stopping it before would leave the next measurements a base without them."""
    started = time.perf_counter()
    with _celery_control(broker) as control:
        while time.perf_counter() - started < limit:
            active = control.inspect(destination=names, timeout=1.0).active() or {}
            if len(active) >= len(names) and not any(active.values()):
                break
            time.sleep(0.5)
    return time.perf_counter() - started


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_match(*, workers: int, broker: str, partitions: int | None, timeout: float,
              logs: Path) -> dict:
    """Start the workers, run the command, stop the workers: the timed part."""
    env = dict(os.environ)
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    if workers:
        env["CELERY_BROKER_URL"] = broker
        _flush_broker(broker)
    else:
        env.pop("CELERY_BROKER_URL", None)
    command = [sys.executable, "manage.py", "match", "--full", "--no-progress"]
    if partitions:
        command += ["--partitions", str(partitions)]

    import socket

    host = socket.gethostname()
    # Names unique to this run: another run's workers on the same broker never answer
    # for these.
    names = [f"w{i}-{os.getpid()}@{host}" for i in range(1, workers + 1)]
    worker_processes: list[subprocess.Popen] = []
    result: dict = {"workers": workers, "mode": f"{workers} worker(s)" if workers else "eager"}
    with TreeMemory() as memory:
        try:
            for i, name in enumerate(names, 1):
                log = (logs / f"worker{i}.log").open("wb")
                worker_processes.append(subprocess.Popen(
                    [str(Path(sys.executable).parent / "celery"), "-A", "rcu", "worker",
                     "-Q", "rcu", "-c", "1", "--pool", "prefork", "-l", "warning", "-n", name],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                ))
                log.close()
                memory.add("workers", worker_processes[-1].pid)
            if workers:
                result["workers_ready_seconds"] = round(
                    _wait_for_workers(broker, names, worker_processes), 2)
                time.sleep(0.5)
                result["workers_idle_rss_mib"] = _mib(memory.sample()[0].get("workers", 0))
            out_path, err_path = logs / "match.out", logs / "match.err"
            with out_path.open("wb") as out, err_path.open("wb") as err:
                started = time.perf_counter()
                command_process = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True,
                )
                memory.add("command", command_process.pid)
                try:
                    returncode = command_process.wait(timeout)
                except subprocess.TimeoutExpired:
                    returncode = None
                finally:
                    _stop_group(command_process, grace=10)
                seconds = time.perf_counter() - started
            if workers and returncode == 0:
                result["workers_busy_after_seconds"] = round(_wait_idle(broker, names), 2)
        finally:
            for process in worker_processes:
                _stop_group(process)
    output = out_path.read_text(errors="replace")
    found = SUCCEEDED.search(output)
    result.update(
        seconds=round(seconds, 2),
        command_seconds=float(found.group(2)) if found else None,
        run_id=int(found.group(1)) if found else None,
        peak_rss_mib=_mib(memory.peak),
        peak_pss_mib=_mib(memory.peak_pss),
        peak_command_rss_mib=_mib(memory.peak_by_role.get("command", 0)),
        peak_workers_rss_mib=_mib(memory.peak_by_role.get("workers", 0)),
        returncode=returncode,
        command_output=output.strip().splitlines()[-2:],
    )
    if returncode != 0:
        result["error"] = "timeout" if returncode is None else f"exit code {returncode}"
        result["stderr_tail"] = _tail(err_path)
        for i in range(1, workers + 1):
            result[f"worker{i}_log_tail"] = _tail(logs / f"worker{i}.log")
    return result


def run_figures(run_id: int | None) -> dict:
    """The counters and step timings of the run (the last one if the id is unknown)."""
    from rcu.models import MatchRun

    runs = MatchRun.objects.all()
    run = runs.filter(pk=run_id).first() if run_id else runs.order_by("-pk").first()
    if run is None:
        return {}
    fields = ("status", "partitions", "records", "pairs_compared", "pairs_kept",
              "records_moved", "customers_retired", "candidates", "oversized_blocks",
              "generic_values", "message", "timings")
    return {"id": run.pk, **{name: getattr(run, name) for name in fields}}


def quality(data_dir: Path, exports: Path) -> dict:
    """Export links and candidates, then count pairwise quality against truth.csv."""
    from django.core.management import call_command

    from bench.quality import review_quality
    from bench.records import load_truth

    t0 = time.perf_counter()
    links, candidates = exports / "links.csv", exports / "candidates.csv"
    with open(os.devnull, "w") as devnull:
        call_command("export_links", str(links), stdout=devnull)
        call_command("export_candidates", str(candidates), stdout=devnull)
    export_seconds = time.perf_counter() - t0

    clusters: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with links.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            clusters[row["customer_id"]].append((row["source"], row["external_id"]))
    review: list[tuple[tuple[str, str], tuple[str, str]]] = []
    statuses: dict[str, int] = defaultdict(int)
    with candidates.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            statuses[row["status"]] += 1
            if row["status"] == "open":
                review.append(((row["source_a"], row["external_id_a"]),
                               (row["source_b"], row["external_id_b"])))
    truth = load_truth(data_dir)
    linked = {record for members in clusters.values() for record in members}
    q = review_quality(predicted_clusters=clusters.values(), review_pairs=review, truth=truth)
    return {
        "precision": round(q["precision"], 4),
        "recall": round(q["recall"], 4),
        "recall_with_review": round(q["recall_with_review"], 4),
        "review_items": q["review_items"],
        "review_per_true_pair": round(q["review_per_true_pair"], 4),
        "review_precision": round(q["review_precision"], 4),
        "true_pairs": q["true_pairs"],
        "predicted_pairs": q["predicted_pairs"],
        "true_positives": q["true_positives"],
        "found_pairs": q["found_pairs"],
        "customers": len(clusters),
        "largest_customer": max(map(len, clusters.values()), default=0),
        "exported_records": len(linked),
        "truth_records_missing": sum(1 for record in truth if record not in linked),
        "candidate_rows": dict(statuses),
        "review_pairs_open": len(review),
        "export_seconds": round(export_seconds, 2),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--workers", type=int, default=0,
                        help="Celery worker processes (0: eager, in the command's process)")
    parser.add_argument("--broker", default=DEFAULT_BROKER,
                        help=f"Redis database for the workers (flushed first; default {DEFAULT_BROKER})")
    parser.add_argument("--partitions", type=int, default=None, help="match --partitions")
    parser.add_argument("--timeout", type=float, default=2400.0,
                        help="seconds before the command is killed (default 2400)")
    args = parser.parse_args(argv)
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("DATABASE_URL must name the (imported, unmatched) database")

    with tempfile.TemporaryDirectory(prefix="rcu-bench-match-") as tmp:
        tmp_path = Path(tmp)
        result = run_match(workers=args.workers, broker=args.broker, partitions=args.partitions,
                           timeout=args.timeout, logs=tmp_path)
        # Figures and quality are read in this process, after the measured part.
        os.environ.pop("CELERY_BROKER_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection

        result["engine"] = connection.vendor
        result["run"] = run_figures(result.get("run_id"))
        if "error" not in result and result["run"].get("status") == "succeeded":
            result.update(quality(args.data_dir, tmp_path))
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
