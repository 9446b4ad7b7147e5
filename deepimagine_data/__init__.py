"""deepimagine-data: data and benchmarks for predicting clinical-trial outcomes by counterfactual imagining.

DeepImagine (arXiv 2604.23054) predicts a trial's result by starting from a trial whose result is known and
changing one factor at a time. This package reads real trials with posted results into one normalized model,
builds counterfactual pairs and benchmark questions from them, and publishes them as Hugging Face datasets.
"""

__version__ = "0.3.0"

from .api import load_pairs, questions, score  # noqa: E402 - light: each imports what it needs when called

__all__ = ["__version__", "load_pairs", "questions", "score"]
