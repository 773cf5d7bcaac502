"""The README's `make demo`, in its short mode, on fresh data: the whole pipeline answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scope_shared.devservices.demo.command import OFFLINE_SOURCES
from tests.support.ports import free_port

SCOPE = Path(sys.executable).parent / "scope"


def _demo_check(data_dir: Path, nats_port: int, api_port: int, replay_port: int) -> str:
    env = dict(os.environ) | {
        "SCOPE_DATA_DIR": str(data_dir),
        "SCOPE_NATS_URL": f"nats://127.0.0.1:{nats_port}",
    }
    env.pop("SCOPE_OPENSEARCH_URL", None)
    result = subprocess.run(
        [str(SCOPE), "demo", "--check", "--port", str(api_port), "--replay-port", str(replay_port)],
        env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


@pytest.mark.slow
@pytest.mark.integration
def test_demo_check_passes_on_fresh_data_and_again_on_kept_data(tmp_path: Path) -> None:
    ports = (free_port(), free_port(), free_port())
    first = _demo_check(tmp_path, *ports)
    assert "demo check passed" in first
    assert "france_decp: ok" in first
    second = _demo_check(tmp_path, *ports)
    assert "demo check passed" in second
    # Kept data: every source publishes nothing new; DECP's files, unchanged, give no page.
    counts = dict(re.findall(r"(\w+): \d+ pages, (\d+) published", second))
    paged = [source for source in OFFLINE_SOURCES if source != "france_decp"]
    assert counts == dict.fromkeys(paged, "0"), second[-3000:]
    assert "france_decp: ok" in second
