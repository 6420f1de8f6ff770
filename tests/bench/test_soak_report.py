"""The soak part's report: per-operation figures, the three targets, the violations."""

from __future__ import annotations

from bench.soak import Stats, _token_column, csrf_token_of, percentile, results_table, run_of

OPERATION = {"requests": 120, "ok": 100, "refused": 20, "server_errors": 0, "per_second": 2.0,
             "p50_ms": 40.0, "p95_ms": 180.5, "first_errors": []}
NO_VIOLATION = {"records without a customer": 0, "records in a retired customer": 0,
                "golden values off their records": 0, "per-source counts off": 0,
                "source updates lost": 0}


def result(**changes) -> dict:
    base = {
        "seconds": 60.0, "persons": 1000, "records": 2300, "seed_seconds": 40.0,
        "threads": {"merge": 2, "api ingest": 2, "file import": 1}, "hot_candidates": 40,
        "target_records": 90, "operations": {"merge": OPERATION, "api ingest": OPERATION},
        "server_errors": 0, "deadlocks": 0, "stuck_clients": 0, "updates_sent": 300,
        "updates_succeeded": 300, "invariants": NO_VIOLATION, "invariant_violations": 0,
    }
    return {**base, **changes}


def test_the_report_gives_each_operation_its_figures_and_says_the_targets_are_met():
    table = results_table(result())

    assert "| merge | 120 | 2.0 | 100 | 20 | 0 | 40.0 | 180.5 |" in table
    assert "| api ingest | 120 |" in table
    assert "Server errors: **0**; deadlocks: **0**; invariant violations: **0**" in table
    assert "(target 0, 0, 0: met)" in table
    assert "Violations" not in table


def test_refusals_are_told_by_status():
    conflicts = {**OPERATION, "refused_by_status": {"409": 18, "400": 2}}
    table = results_table(result(operations={"merge": conflicts}))
    assert "| merge | 120 | 2.0 | 100 | 20 (409: 18, 400: 2) | 0 |" in table


def test_the_report_says_when_a_target_is_missed_and_which_invariant_broke():
    broken = {**NO_VIOLATION, "source updates lost": 2}
    table = results_table(result(deadlocks=1, invariants=broken, invariant_violations=2))

    assert "deadlocks: **1**" in table and "NOT met" in table
    assert "Violations: source updates lost: 2." in table


def test_a_failed_soak_is_reported_as_such():
    assert results_table({"error": "exit code 1", "stderr_tail": "boom"}).startswith(
        "soak bench failed: exit code 1")


def test_latency_percentiles_and_counts():
    stats = Stats(latencies_ms=[float(v) for v in range(1, 101)], ok=90, refused=10)
    stats.refusals[409] += 10
    figures = stats.figures(50.0)
    assert figures["refused_by_status"] == {"409": 10}
    assert figures["p95_ms"] == 95.0 and figures["p50_ms"] == 50.5
    assert figures["per_second"] == 2.0 and figures["requests"] == 100
    assert percentile([], 0.95) is None


def test_updates_write_their_value_in_an_address_column_of_one_source_column():
    crm = {"fields": [{"source": ["NUM_VOIE", "LIBELLE_VOIE"], "attribute": "address_line1"},
                      {"source": "COMPLEMENT", "attribute": "address_line2"}]}
    service = {"fields": [{"source": "ADRESSE", "attribute": "address_line1"}]}
    till = {"fields": [{"source": "NOM", "attribute": "last_name"}]}
    assert _token_column(crm) == "COMPLEMENT"
    assert _token_column(service) == "ADRESSE"
    assert _token_column(till) is None


def test_the_report_says_how_busy_the_machine_was():
    table = results_table(result(machine={"foreign_cores_busy": 1.5}))
    assert "Other work on the machine meanwhile: 1.5 cores busy" in table


def test_the_report_tells_the_batch_runs_asked_for_and_how_long_they_took():
    runs = {"asked": 12, "distinct": 10, "full": 2, "succeeded": 10, "p95_s": 4.2}
    batch = {**OPERATION, "requests": 12, "ok": 12, "refused": 0}
    table = results_table(result(operations={"batch run": batch}, batch_runs=runs))
    assert "| batch run | 12 | 2.0 | 12 | 0 | 0 |" in table
    assert ("Batch runs asked for: 12 (10 runs, a request made while one waited joins it; "
            "2 full), 10 succeeded; from asked to applied p95 4.2 s.") in table


def test_a_batch_run_is_started_with_the_form_token_and_found_by_the_redirect():
    page = (b'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" '
            b'value="abc123"><button name="action" value="run"></button></form>')
    assert csrf_token_of(page) == "abc123"
    assert csrf_token_of(b"<p>signed out</p>") == ""
    assert run_of("/administration/matching/#run-42") == 42
    assert run_of("/accounts/two-factor/?next=/administration/matching/") is None
