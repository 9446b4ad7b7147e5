"""Counterfactual pairs built from the normalized trial model.

- :mod:`.comparisons` — one labelled two-group comparison per outcome (posted analysis or per-arm values).
- :mod:`.strict` — strict pairs inside one trial: ``strict_arm``, ``strict_dose``, ``strict_outcome``.
- :mod:`.render` — TRL-standard text (``prompt``/``completion``/``messages``) from versioned templates.
"""
