"""Rewrite the golden values in test_golden.py from the current model.

Run it only when a change is meant to alter results, and say why in the commit::

    .venv/bin/python -m tests.regression.regenerate
"""

from __future__ import annotations

import re
from pathlib import Path

import sim
from tests.regression.test_golden import HORIZON, SEED
from tests.support import small_scenario

GOLDEN_FILE = Path(__file__).with_name("test_golden.py")


def regenerate() -> None:
    """Recompute every pinned value of the golden tests in place."""
    src = GOLDEN_FILE.read_text()
    for pipeline in ("legacy", "optimised"):
        scenario = small_scenario(pipeline, **HORIZON)
        result = sim.run(scenario, SEED, 0)
        start = src.index(f"def test_regression_default_{pipeline}_seed")
        end = src.find("\ndef ", start + 10)
        end = len(src) if end < 0 else end
        block = src[start:end]
        block = re.sub(r'config_hash\(\) == "[0-9a-f]+"', f'config_hash() == "{scenario.config_hash()}"', block)
        golden_at = block.index("golden = {")
        keys = re.findall(r'^\s+"(\w+)": ', block[golden_at : block.index("}", golden_at)], re.MULTILINE)
        golden = "golden = {\n" + "".join(f'        "{k}": {result.metrics[k]!r},\n' for k in keys) + "    }"
        block = re.sub(r"golden = \{.*?\n    \}", golden, block, count=1, flags=re.DOTALL)
        for name in ("outcomes", "funnel"):
            block = re.sub(
                rf"assert result\.{name} == \{{.*?\}}",
                f"assert result.{name} == {getattr(result, name)!r}",
                block,
                count=1,
                flags=re.DOTALL,
            )
        block = re.sub(r"leads_simulated == \d+", f"leads_simulated == {result.leads_simulated}", block)
        src = src[:start] + block + src[end:]
    GOLDEN_FILE.write_text(src)
    print(f"rewrote {GOLDEN_FILE}; run `ruff format` on it and review the diff")


if __name__ == "__main__":
    regenerate()
