"""Scoring predictions of trial outcomes: CT Open's metrics exactly, calibration, submissions and their checks.

- :mod:`.decision` reads ``DECISION: (p1, p2[, p3])`` lines (CT Open's exact reading, and a forgiving one);
- :mod:`.metrics` computes CT Open's per-category metrics, averaged over runs, plus Brier score and ECE;
- :mod:`.questions` loads the question sets (CT Open editions, the deepimagine bench) keyed as submissions are;
- :mod:`.submission` reads predictions (CT Open pickle, JSONL, lm-eval samples), checks and scores them.
"""
