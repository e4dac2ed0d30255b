"""The health sampler: every minute, one sample per channel."""

from __future__ import annotations

from django_tasks import task

from .probes import probe_all
from .services import samples_record


@task()
def record_health_samples() -> str:
    results = probe_all()
    samples_record(results)
    return " ".join(f"{c}={'up' if up else 'down'}" for c, up in results.items())
