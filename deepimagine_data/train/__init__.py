"""Fine-tuning on deepimagine/pairs with TRL and LoRA: ``deepimagine train sft|grpo`` (the ``[train]`` extra).

Modules: :mod:`.data` (dataset resolution, version check, TRL columns), :mod:`.reward` (GRPO rewards on the
``DECISION:`` line), :mod:`.recipe` (defaults, recipe YAML, TRL/peft configs), :mod:`.sft`, :mod:`.grpo`,
:mod:`.cli`; GPU recipes in ``recipes/``. Importing this package imports neither torch nor trl.

>>> from deepimagine_data.train.reward import decision_reward
>>> decision_reward(["q"], ["DECISION: (0.1, 0.9)"], reference_index=[1], n_options=[2])
[1.0]

Cite: DeepImagine: Learning Biomedical Reasoning via Successive Counterfactual Imagining, arXiv 2604.23054.
"""
