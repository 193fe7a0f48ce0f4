"""Prints which estimators the generated round-trip test skipped, and why (it must stay small)."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest's hook signature
    import sys

    module = sys.modules.get("tests.loading.test_every_estimator")
    skipped = getattr(module, "SKIPPED", None)
    if not skipped:
        return
    covered = getattr(module, "CASES", [])
    terminalreporter.section("estimators skipped by the generated allow-list test")
    terminalreporter.write_line(f"{2 * len(covered) - len(skipped)} of {2 * len(covered)} estimator x front cases "
                                f"round-tripped; {len(skipped)} skipped:")
    for label, reason in sorted(skipped.items()):
        terminalreporter.write_line(f"  {label}: {reason}")
