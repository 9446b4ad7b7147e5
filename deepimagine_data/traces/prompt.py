"""The teacher's messages for one pair row, from the versioned templates in ``templates/trace-v1/``.

>>> msgs = teacher_messages("Question: ...\\n0. yes\\n1. no", ["arm"], 2)
>>> [m["role"] for m in msgs], msgs[1]["content"].splitlines()[-2]
(['system', 'user'], 'DECISION: (p1, p2)')
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from string import Template

TEMPLATE_VERSION = "trace-v1"


def template_dir(version: str = TEMPLATE_VERSION) -> Path:
    """The folder of a template version inside the installed package.

    >>> template_dir().name
    'trace-v1'
    """
    return Path(str(resources.files("deepimagine_data") / "templates" / version))


@lru_cache(maxsize=4)
def templates(version: str = TEMPLATE_VERSION) -> tuple[str, Template, str]:
    """(system text, user template, sha256 over ``system + "\\0" + user``), as pairs/render.py hashes its pair.

    >>> len(templates()[2])
    64
    """
    d = template_dir(version)
    system = (d / "system.txt").read_text(encoding="utf-8")
    user = (d / "user.txt").read_text(encoding="utf-8")
    sha = hashlib.sha256((system + "\0" + user).encode()).hexdigest()
    return system, Template(user), sha


def decision_slots(n_options: int) -> str:
    """``p1, p2[, p3]``: the placeholder of CT Open's decision line.

    >>> decision_slots(3)
    'p1, p2, p3'
    """
    return ", ".join(f"p{i + 1}" for i in range(n_options))


def teacher_messages(
    prompt: str, changed_factors: list[str], n_options: int, version: str = TEMPLATE_VERSION
) -> list[dict[str, str]]:
    """System and user message asking for a trace; the known answer is deliberately not in them.

    >>> teacher_messages("P", ["dose"], 2)[1]["content"].startswith("P\\n")
    True
    """
    system, user, _ = templates(version)
    text = user.substitute(
        prompt=prompt.rstrip(),
        changed_factors=", ".join(changed_factors) if changed_factors else "the changed factor",
        decision_slots=decision_slots(n_options),
        n_options=n_options,
    )
    # Stripped: a final newline in a template file is an editor's habit, not text the teacher should see.
    return [{"role": "system", "content": system.strip()}, {"role": "user", "content": text.strip()}]
