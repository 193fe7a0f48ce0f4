"""Running an audit's chunks beyond one process: a Dask distributed cluster given by ``--scheduler``.

- ``local:N`` starts a ``LocalCluster`` of N single-threaded worker processes for this run and closes
  it afterwards (no dashboard, quiet logs).
- ``tcp://HOST:PORT`` (or ``tls://``) connects to an existing cluster's scheduler; its workers need the
  same version of this package and of the model's library installed.

:func:`map_in_order` runs a function over a stream of work items, on the cluster when there is one and
in this process otherwise, with a bounded number of items in flight (memory stays flat however long the
stream) and results yielded in the order of the items, so the output is identical to the serial run.
The objects every item shares (the adapter, the explainer, the background) are sent to the workers once.

>>> list(map_in_order(None, lambda x, k: x * k, iter([(1,), (2,), (3,)]), {"k": 10}))
[10, 20, 30]
"""

from __future__ import annotations

import logging
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from audit.errors import InputError

__all__ = ["check_scheduler", "cluster", "map_in_order", "on_cluster", "worker_count"]

_REMOTE = ("tcp://", "tls://")


def check_scheduler(scheduler: str) -> int | str:
    """The worker count of ``local:N`` or the address of a remote scheduler (checked before any work)."""
    if scheduler.startswith("local:"):
        n = scheduler.split(":", 1)[1]
        if not n.isdigit() or int(n) < 1:
            raise InputError(f"--scheduler {scheduler}: local needs a worker count of at least 1, e.g. local:2.")
        return int(n)
    if scheduler.startswith(_REMOTE) and len(scheduler.split("://", 1)[1]) > 0:
        return scheduler
    raise InputError(f"--scheduler {scheduler}: give local:N (a cluster started for this run) or the address of "
                     "a running Dask scheduler, tcp://HOST:PORT.")


@contextmanager
def cluster(scheduler: str | None, *, connect_timeout_s: float = 10.0) -> Iterator[Any]:
    """A ``dask.distributed.Client`` for ``scheduler`` (None: no cluster, yields None)."""
    if scheduler is None:
        yield None
        return
    target = check_scheduler(scheduler)
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError(f"--scheduler {scheduler}: needs dask.distributed; install it with "
                         "pip install 'xai-audit[dask]'.") from None
    if isinstance(target, int):
        with LocalCluster(n_workers=target, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=logging.ERROR) as local, Client(local) as client:
            yield client
        return
    try:
        client = Client(target, timeout=f"{connect_timeout_s}s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--scheduler {scheduler}: no Dask scheduler answered ({exc}). Start one with "
                         "'dask scheduler' and its workers, or check the address.") from None
    with client:
        yield client


def worker_count(client: Any) -> int:
    """Threads over all workers of the cluster (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def _share(client: Any, shared: dict[str, Any]) -> dict[str, Any]:
    """Send the shared objects to every worker once; a model that cannot travel is a clear error."""
    try:
        return {k: client.scatter(v, broadcast=True) for k, v in shared.items()}
    except (TypeError, AttributeError, pickle.PicklingError) as exc:
        raise InputError(f"--scheduler: this model cannot be sent to Dask workers ({type(exc).__name__}: "
                         f"{str(exc)[:200]}); run without --scheduler.") from None


def _lost_worker_errors() -> tuple[type[BaseException], ...]:
    """What a client raises when a worker process dies under a task: the task was retried on other workers
    until the scheduler's ``allowed-failures`` ran out (``KilledWorker``), or the connection dropped."""
    from distributed import CancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker

    return KilledWorker, CommClosedError, CancelledError


def _worker_died(what: str, exc: BaseException) -> InputError:
    return InputError(f"--scheduler: a Dask worker process died while running {what} and the scheduler's retries on "
                      f"other workers died too ({type(exc).__name__}: {str(exc)[:200]}). The model (or a native "
                      "library it calls) crashes the process, or the worker ran out of memory. Nothing was written; "
                      "run without --scheduler to see the model's own error, or give the workers more memory.")


def map_in_order(client: Any, fn: Callable[..., Any], items: Iterable[tuple], shared: dict[str, Any], *,
                 in_flight: int | None = None, label: Callable[[int, tuple], str] | None = None) -> Iterator[Any]:
    """``fn(*item, **shared)`` for each item, in item order; on ``client``'s workers when given.

    A worker that dies under an item has it retried on another worker by the scheduler (the item's arrays
    travel inside its task, so a retry never needs data the dead worker held); when the retries die too,
    the outstanding work is cancelled and the error names the item (``label(index, item)``) and exits 2."""
    if client is None:
        for item in items:
            yield fn(*item, **shared)
        return
    remote = _share(client, shared)
    limit = in_flight or 2 * worker_count(client)
    pending: deque = deque()
    lost = _lost_worker_errors()
    try:
        for index, item in enumerate(items):
            pending.append((index, item, client.submit(fn, *item, **remote, pure=False)))
            if len(pending) >= limit:
                yield _result(pending.popleft(), pending, lost, label)
        while pending:
            yield _result(pending.popleft(), pending, lost, label)
    finally:
        client.cancel([f for _i, _it, f in pending])


def _result(entry: tuple[int, tuple, Any], pending: deque, lost: tuple[type[BaseException], ...],
            label: Callable[[int, tuple], str] | None) -> Any:
    try:
        return entry[2].result()
    except lost as exc:
        # the item whose task killed its workers, rather than one cancelled because the shared objects died
        # with them
        index, item, future = next((e for e in (entry, *pending) if e[2].status == "error"
                                    and isinstance(e[2].exception(), lost[0])), entry)
        culprit = future.exception() if future.status == "error" else exc
        raise _worker_died(label(index, item) if label else f"work item {index + 1}", culprit) from None


@contextmanager
def on_cluster(scheduler: str | None, config: Any) -> Iterator[Any]:
    """For ``audit run``: the row-parallel explainers (LIME, model-agnostic SHAP) send their row chunks to the
    cluster's workers (:func:`explainers.row_cluster`), over every worker thread unless ``n_jobs`` is
    configured. Yields the configuration to run with. Per-row seeds make the attributions identical to the
    serial run's."""
    with cluster(scheduler) as client:
        if client is None:
            yield config
            return
        from explainers import row_cluster

        if config.n_jobs in (0, 1):
            config = config.model_copy(update={"n_jobs": worker_count(client)})
        with row_cluster(client):
            try:
                yield config
            except _lost_worker_errors() as exc:
                raise _worker_died("the row-parallel explainers", exc) from None
