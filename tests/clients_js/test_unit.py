"""The JavaScript client's unit tests (``clients/js/test``, Node's own test runner), run by
pytest so that the project's single test command covers them."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.clients_js.harness import CLIENT_DIR, REPO_ROOT
from tests.interop.interop_harness import ScenarioFailed, require_node


def test_node_unit_tests_pass() -> None:
    try:
        node = require_node()
    except ScenarioFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        done = subprocess.run(
            [node, "--test", str(CLIENT_DIR / "test") + "/"],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("node --test clients/js/test/ ran over 120 s", pytrace=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", done.stdout, re.MULTILINE)
    assert passed and failed, output
    assert int(failed[1]) == 0, output
    assert int(passed[1]) >= 40, output  # every test file was found and ran
