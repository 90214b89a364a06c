"""A warmed-up training step reuses the memory the last one freed: no page faults."""

from benchmarks.page_faults import measure
from minigrad.backend.cpu_memory import runs_on_glibc

ON_GLIBC = runs_on_glibc()


def test_kept_memory_means_no_page_faults_and_given_back_means_thousands():
    kept = measure("mlp_step", 256, seconds=0.05, keep=True)
    given_back = measure("mlp_step", 256, seconds=0.05, keep=False)
    if not ON_GLIBC:  # elsewhere minigrad leaves malloc alone: both runs are the same
        return
    assert kept["faults"] < 50  # a step touches ~9 MB: 2,200+ fresh pages if given back
    assert given_back["faults"] > 500
