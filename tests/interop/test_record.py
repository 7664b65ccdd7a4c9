"""The recorded PDS answers (`pds_answers.json`) still match the real PDS.

`tests/test_fidelity.py` replays the same exchanges against the sandbox's emulator and compares
it with this recording; here the recording itself is checked against the reference PDS, so it
cannot silently go stale. `RECORD_PDS_ANSWERS=1` rewrites it from this run instead.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from exchanges import EXCHANGES, LIMITED, RECORDED, Target, recorded, run_all
from pds import Pds, new_account

pytestmark = pytest.mark.interop


def _answers(pds: Pds, pds_limited: Pds) -> dict[str, dict[str, Any]]:
    main, other = new_account(pds), new_account(pds)
    target = Target(pds.url, main.handle, main.app_password, other.did, main.password)
    answers = run_all(target)
    limited = new_account(pds_limited)
    answers |= run_all(Target(pds_limited.url, limited.handle, limited.app_password, ""), LIMITED)
    return answers


def test_recorded_answers_match_the_real_pds(pds: Pds, pds_limited: Pds) -> None:
    answers = _answers(pds, pds_limited)
    if os.environ.get("RECORD_PDS_ANSWERS"):
        version = pds.xrpc("GET", "_health").json().get("version")
        document = {"pds_version": version, "answers": answers}
        text = json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True)
        RECORDED.write_text(text + "\n", encoding="utf-8")
    assert set(answers) == set(EXCHANGES) | set(LIMITED)
    assert answers == recorded()
    assert pds.violations() == pds_limited.violations() == ""
