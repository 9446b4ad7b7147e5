"""Write tests/data/ctopen_winter2025_golden.json: CT Open's own evaluation of the constructed predictions.

Usage: python scripts/make_ctopen_golden.py --evaluation PATH/TO/CT_Open/evaluations/evaluation.py \
           [--source ../shared/data/ct_open] [--commit SHA]

CT Open's repository has no license, so its evaluation.py is not part of this project: fetch it yourself (the
figures in the committed file came from commit f36b643554fedc0cc5bfac593b94c399c934594f, the version whose categories
are "2-way_implicit", "2-way_explicit", "3-way_explicit" and which collapses 3-way answers for accuracy and F1; its
print statements removed, computation unchanged). It needs scikit-learn, numpy and tqdm. The predictions are those of
tests/ctopen_predictions.py on the Winter 2025 questions, 3 runs; the test scores the same predictions with the
package and compares to 1e-9.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaluation", type=Path, required=True)
    ap.add_argument("--source", default=str(ROOT.parent / "shared" / "data" / "ct_open"))
    ap.add_argument("--commit", default="f36b643554fedc0cc5bfac593b94c399c934594f")
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "ctopen_winter2025_golden.json")
    args = ap.parse_args()

    import sklearn
    from ctopen_predictions import RUNS, predictions

    from deepimagine_data import ctopen

    spec = importlib.util.spec_from_file_location("ctopen_evaluation", args.evaluation)
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)

    data = ctopen.load_edition("winter2025", args.source)
    qs = [(r.prediction_key(i), len(q), r.answer_index[i]) for r in ctopen.records("winter2025", args.source)
          for i, q in enumerate(r.questions)]  # fmt: skip
    runs = [predictions(qs, r) for r in range(RUNS)]
    final = ev.evaluate_multiple_runs(runs, data)
    names = {"2-way_implicit": "2-way implicit", "2-way_explicit": "2-way explicit", "3-way_explicit": "3-way explicit"}
    figures = {
        names.get(cat, cat): {
            "balanced_accuracy": float(m["Weighted_Accuracy"]),
            "macro_f1": float(m["Macro-F1"]),
            "cross_entropy": float(m["Cross_Entropy"]),
        }
        for cat, m in final.items()
    }
    doc = {
        "provenance": {
            "evaluation": "ClinicalTrial-OpenChallenge/CT_Open evaluations/evaluation.py evaluate_multiple_runs",
            "commit": args.commit,
            "edition": "winter2025 (datasets/Winter_2025.pickle at 7a29c11d037209368714a609fc6a34ddee996939)",
            "predictions": "tests/ctopen_predictions.py, runs 0..2",
            "questions": len(qs),
            "scikit_learn": sklearn.__version__,
            "made_by": "scripts/make_ctopen_golden.py",
        },
        "figures": figures,
    }
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
