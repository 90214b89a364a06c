"""``python -m benchmarks --quick`` runs every workload and writes its report (timing unchecked)."""

import json

import pytest

from benchmarks import report, timing, workloads
from benchmarks.__main__ import main


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    status = main(["--quick", "--no-torch", "--devices", "cpu", "--out", str(out)])
    return status, out, json.loads((out / "results.json").read_text())


def test_quick_run_exits_cleanly_and_writes_its_files(quick_run):
    status, out, payload = quick_run
    assert status == 0
    assert (out / "results.md").read_text().startswith("# minigrad benchmarks")
    assert payload["machine"]["cores"] >= 1
    assert payload["roofline"]["cpu"]["peak_gflops_per_s"] > 0


def test_every_workload_has_a_result_at_every_quick_size(quick_run):
    _, _, payload = quick_run
    for workload in workloads.WORKLOADS:
        for size in workload.quick_sizes:
            [result] = [
                r
                for r in payload["results"]
                if (r["workload"], r["size"], r["framework"]) == (workload.name, size, "minigrad")
            ]
            # A workload whose layers minigrad lacks is reported as such; any other must run.
            expected = "unavailable" if workload.missing() else "ok"
            assert result["status"] == expected, result.get("reason")
            if expected == "ok":
                assert result["min_s"] <= result["median_s"] <= result["max_s"]
                assert result["rss_peak_bytes"] >= result["rss_before_bytes"] > 0


def test_rates_follow_from_the_counts(quick_run):
    _, _, payload = quick_run
    [matmul] = [r for r in payload["results"] if (r["workload"], r["size"]) == ("matmul", 64)]
    assert matmul["flops"] == 2 * 64**3
    assert matmul["gflops_per_s"] == pytest.approx(matmul["flops"] / matmul["median_s"] / 1e9)
    [chain] = [r for r in payload["results"] if r["workload"] == "elementwise_chain"][:1]
    assert chain["us_per_unit"] == pytest.approx(chain["median_s"] / workloads.CHAIN_OPS * 1e6)


def test_summary_statistics_by_hand():
    s = timing.summarize([5.0, 1.0, 3.0])
    got = (s["median_s"], s["min_s"], s["max_s"], s["q1_s"], s["q3_s"])
    assert got == (3.0, 1.0, 5.0, 2.0, 4.0)


def test_measure_calls_prepare_before_every_timed_run():
    calls = []
    stats = timing.measure(
        lambda: calls.append("run"), prepare=lambda: calls.append("prepare"), budget_s=0.0
    )
    assert calls == ["prepare", "run"] * (stats["warmup"] + stats["repeats"])
    assert stats["number"] == 1


def test_gpu_crossover_is_where_the_gpu_wins_from_then_on():
    def rows(times):
        return [
            {
                "workload": "w",
                "framework": "minigrad",
                "status": "ok",
                "device": device,
                "size": size,
                "median_s": t,
            }
            for size, (cpu, gpu) in times.items()
            for device, t in (("cpu", cpu), ("cuda", gpu))
        ]

    assert report.gpu_crossover(rows({1: (1, 2), 2: (3, 2), 4: (9, 3)}), "w") == 2
    assert report.gpu_crossover(rows({1: (1, 0.5), 2: (3, 4), 4: (9, 3)}), "w") == 4
    assert report.gpu_crossover(rows({1: (1, 2), 2: (1, 3)}), "w") is None


def test_unknown_workload_names_the_real_ones():
    with pytest.raises(ValueError, match="matmul"):
        workloads.get("matmull")


def test_a_workload_that_needs_a_missing_layer_is_unavailable_not_failed(monkeypatch):
    from benchmarks import worker

    future = workloads.Workload(
        name="future",
        summary="needs a layer that does not exist",
        size_name="n",
        sizes=(1,),
        quick_sizes=(1,),
        minigrad=lambda size, device: workloads.Step(run=lambda: None),
        needs=("minigrad.nn.NoSuchLayer", "minigrad.Tensor"),
    )
    monkeypatch.setattr(workloads, "WORKLOADS", [*workloads.WORKLOADS, future])
    assert future.missing() == ["minigrad.nn.NoSuchLayer"]
    job = {"workload": "future", "size": 1, "device": "cpu", "framework": "minigrad", "quick": True}
    result = worker.run_one(job)
    assert result["status"] == "unavailable"
    assert "minigrad.nn.NoSuchLayer" in result["reason"]


def test_a_failing_workload_is_reported_with_its_error(monkeypatch):
    from benchmarks import worker

    def broken(size, device):
        raise RuntimeError("shapes do not align")

    bad = workloads.Workload("bad", "fails", "n", (1,), (1,), minigrad=broken)
    monkeypatch.setattr(workloads, "WORKLOADS", [*workloads.WORKLOADS, bad])
    job = {"workload": "bad", "size": 1, "device": "cpu", "framework": "minigrad", "quick": True}
    result = worker.run_one(job)
    assert result["status"] == "error"
    assert result["reason"] == "RuntimeError: shapes do not align"


def test_help_prints(capsys):
    from benchmarks.__main__ import parse_args

    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--help"])
    assert exit_info.value.code == 0
    assert "--quick" in capsys.readouterr().out


def test_rounds_go_round_the_whole_list_and_keep_each_jobs_median_round(monkeypatch, capsys):
    from benchmarks import __main__ as runner

    # Fake measurements: job "a" takes 3, 1, 2 s in its three rounds, "slow" takes minutes
    # (made once), "broken" fails in its first round only.
    times = {"a": [3.0, 1.0, 2.0], "slow": [100.0], "broken": [None, 5.0, 4.0]}
    order = []

    def fake_run_job(workload, size, device, framework, quick, timeout):
        order.append(workload)
        median = times[workload][sum(1 for w in order if w == workload) - 1]
        job = {"workload": workload, "size": size, "device": device, "framework": framework}
        if median is None:
            return job | {"status": "error", "reason": "crashed"}
        return job | {"status": "ok", "median_s": median, "wall_s": median}

    monkeypatch.setattr(runner, "run_job", fake_run_job)
    args = runner.parse_args(["--retries", "0"])
    jobs = [(name, 1, "cpu", "minigrad") for name in ("a", "slow", "broken")]
    results = runner.measure_all(jobs, args, timeout=10.0, rounds=3)
    assert order == ["a", "slow", "broken", "a", "broken", "a", "broken"]
    assert [r["median_s"] for r in results] == [2.0, 100.0, 4.0]
    assert [r["round_medians_s"] for r in results] == [[3.0, 1.0, 2.0], [100.0], [5.0, 4.0]]
    assert "[1/3, round 2/3] a 1 minigrad cpu: 1.00 s" in capsys.readouterr().out


def test_a_job_that_fails_in_every_round_is_reported_as_failed():
    from benchmarks.__main__ import _median_round

    failed = {"status": "error", "reason": "crashed"}
    assert _median_round([failed, failed | {"reason": "again"}]) == failed


def test_only_the_sizes_asked_for_and_one_pytorch_twin_for_eager_and_compiled():
    from benchmarks.__main__ import parse_args, plan

    args = parse_args(["--only", "mlp_step", "mlp_step_compiled", "--sizes", "16", "256"])
    jobs, _, torch_devices, _ = plan(args)
    mine = [(w.name, size, framework) for w, size, _, framework in jobs if w.name != "matmul"]
    expected = [("mlp_step", 16, "minigrad"), ("mlp_step_compiled", 16, "minigrad")]
    expected += [("mlp_step", 256, "minigrad"), ("mlp_step_compiled", 256, "minigrad")]
    if torch_devices:  # PyTorch installed: one twin per size, under the eager name
        expected += [("mlp_step", 16, "torch"), ("mlp_step", 256, "torch")]
    assert sorted(mine) == sorted(expected)


def test_a_compiled_workload_is_compared_with_its_eager_workloads_pytorch_twin():
    torch = {"workload": "mlp_step", "size": 16, "device": "cpu", "framework": "torch"}
    compiled = torch | {"workload": "mlp_step_compiled", "framework": "minigrad"}
    results = [
        torch | {"status": "ok", "median_s": 4.0},
        compiled | {"status": "ok", "median_s": 1.0},
    ]
    assert report._versus_torch(results[1], results) == "0.25x"
