"""`firth encoder`: train sentence encoders on paragraphs, embed, search and inspect."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from firth.cli.inputs import add_shard_option, check_output, family, positive_int, prepare_run_dir, shard_path
from firth.cli.options import add_parser, add_training_options, config_from_args
from firth.cli.ship import command_line, describe_sources
from firth.config import EncoderConfig
from firth.errors import FirthError
from firth.text.readers import text_batches, text_lines

PRECISIONS = ("float32", "int8", "uint8", "binary", "ubinary")  # firth.runtime.quantize's (a test keeps them equal)
EIGHT_BIT = ("int8", "uint8")
CALIBRATION_LINES = 1024  # vectors whose ranges cut the 8-bit codes when no --ranges is given


def add(families) -> None:
    verbs = family(families, "encoder", "Sentence encoders learned from paragraphs: train, embed, search, inspect.")
    train = add_parser(
        verbs, "train", "Train a sentence encoder on paragraph corpora (registry names or files).",
        "Train on the paragraphs of CORPUS (registry paragraph corpora such as wiki-sample, or files: plain text "
        "with blank lines between paragraphs, JSON lines, MediaWiki XML). The benchmark's held-out paragraphs "
        "of the registry corpora are left out.")
    train.add_argument("corpus", nargs="+", metavar="CORPUS")
    add_training_options(train, EncoderConfig, "runs/encoder")
    train.set_defaults(run=train_)

    embed = add_parser(verbs, "embed", "Vectors of the lines of a file, as .npy or JSON lines.")
    embed.add_argument("model", metavar="MODEL")
    embed.add_argument("input", metavar="FILE", help="one text per line; - reads standard input")
    embed.add_argument("--output", metavar="FILE", required=True, help="a .npy file, or JSON lines otherwise")
    embed.add_argument("--batch-size", type=positive_int, default=64, help="texts encoded together")
    embed.add_argument("--normalize", action="store_true", help="unit-length vectors")
    embed.add_argument("--precision", choices=PRECISIONS, default="float32",
                       help="quantized vectors for an index: int8 or uint8 (1 byte a dimension, cut in the ranges of "
                            "--ranges, else of the first 1,024 lines' vectors, written to OUTPUT.ranges.npy to quantize "
                            "queries alike), or binary or ubinary (1 bit a dimension, packed 8 a byte)")
    embed.add_argument("--ranges", metavar="NPY", help="int8/uint8 ranges to cut with, [2, dim]: another run's "
                                                        "OUTPUT.ranges.npy")
    add_shard_option(embed)
    embed.set_defaults(run=embed_)

    similar = add_parser(verbs, "similar", "The lines of a corpus file most similar to a query.")
    similar.add_argument("model", metavar="MODEL")
    similar.add_argument("--query", required=True, help="the text to look for")
    similar.add_argument("--corpus", required=True, metavar="FILE", help="one text per line")
    similar.add_argument("-k", type=positive_int, default=10, help="how many lines to show")
    similar.set_defaults(run=similar_)

    heatmap = add_parser(
        verbs, "heatmap", "Similarity matrix of grouped sentences beside the expected block-diagonal one.",
        "FILE holds one sentence per line, groups separated by blank lines. Writes the PNG and prints the "
        "overlap's Jaccard, F1 and accuracy.")
    heatmap.add_argument("model", metavar="MODEL")
    heatmap.add_argument("input", metavar="FILE")
    heatmap.add_argument("--output", metavar="PNG", help="default: FILE with .png")
    heatmap.set_defaults(run=heatmap_)


def train_(args) -> None:
    from firth.models.encoder import SentenceEncoder
    from firth.train import distributed
    from firth.train.paragraphs import ParagraphSources

    config = config_from_args(EncoderConfig, args, progress=not args.quiet)
    out = Path(args.out)
    prepare_run_dir(out, args.resume, args.overwrite)
    sources = ParagraphSources(args.corpus)  # streamed: the corpus is read at each epoch, never held
    encoder = SentenceEncoder.from_config(config).fit(sources, out_dir=out, resume=args.resume)
    with distributed.leaving_together():
        if not distributed.is_main():  # under torchrun, rank 0 reports and saves
            return
        encoder.card_["data"]["source"] = (describe_sources(args.corpus) + " (the encoder benchmark's held-out "
                                           "paragraphs of registry corpora left out)")
        encoder.card_["command"] = command_line(args)
        encoder.save(out / "model")
        last = encoder.history_[-1] if encoder.history_ else {}
        print(f"trained a {encoder.n_parameters():,}-parameter encoder ({config.loss}): "
              f"validation R@1 {last.get('val_R1', float('nan')):.4f}, MRR {last.get('val_MRR', float('nan')):.4f}, "
              f"{last.get('tokens_per_s', 0):,.0f} tokens/s, data wait {last.get('data_wait', 0):.1%}")
        print(f"model: {out / 'model'}  metrics: {out / 'metrics.jsonl'}  plot: {out / 'learning_curve.png'}")


def embed_(args) -> None:
    import numpy as np

    from firth.io.atomic import atomic_path
    from firth.io.rows import RowWriter
    from firth.models.encoder import SentenceEncoder
    from firth.runtime.quantize import quantize_embeddings

    output = shard_path(args.output, args.shard)
    ranges_out = None if args.ranges or args.precision not in EIGHT_BIT else Path(f"{output}.ranges.npy")
    for path in filter(None, (output, ranges_out)):
        check_output(path, args.input, args.model)
    if args.ranges and args.precision not in EIGHT_BIT:
        raise FirthError(f"--ranges is for --precision int8 or uint8, not {args.precision}.")
    encoder = SentenceEncoder.load(args.model)
    ranges = _read_ranges(args.ranges) if args.ranges else None
    # one encoder batch per read: longer reads sorted by length ramp up the allocations' sizes,
    # which fragments the C heap and lets memory creep up with the input (benchmarks/RESULTS.md)
    batches = (encoder.encode(texts, batch_size=args.batch_size, normalize_embeddings=args.normalize)
               for texts in text_batches(args.input, max_lines=args.batch_size, shard=args.shard))
    if ranges_out is not None:
        ranges, batches = _calibrated(batches)
    with atomic_path(output) as tmp:
        writer = RowWriter(tmp, npy=output.endswith(".npy"))
        try:
            for vectors in batches:
                writer.write(quantize_embeddings(vectors, args.precision, ranges))
        finally:
            writer.close()
        if ranges_out is not None and ranges is not None:
            with atomic_path(ranges_out) as ranges_tmp, open(ranges_tmp, "wb") as f:
                np.save(f, ranges)
    quantized = "" if args.precision == "float32" else f" ({args.precision} codes"
    quantized += f", ranges in {ranges_out})" if ranges_out is not None and ranges is not None else \
        (")" if quantized else "")
    print(f"{writer.rows:,} vectors of dim {writer.dim} written to {output}{quantized}")


def _read_ranges(path: str):
    """The [2, dim] ranges of an earlier run's OUTPUT.ranges.npy (plain arrays only: never unpickled)."""
    import numpy as np

    try:
        ranges = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise FirthError(f"{path}: cannot read int8 ranges ({e}); pass the .ranges.npy an earlier embed wrote.") from None
    if ranges.ndim != 2 or len(ranges) != 2:
        raise FirthError(f"{path}: int8 ranges must be a [2, dim] array (minima, then maxima), got shape "
                         f"{list(ranges.shape)}.")
    return ranges


def _calibrated(batches):
    """(the ranges of the first CALIBRATION_LINES vectors, or of all there are, None for no input; the batches
    again from the first)."""
    import numpy as np

    from firth.runtime.quantize import calibration_ranges

    head = []
    for vectors in batches:
        head.append(vectors)
        if sum(map(len, head)) >= CALIBRATION_LINES:
            break
    ranges = calibration_ranges(np.concatenate(head)) if head and sum(map(len, head)) else None
    return ranges, itertools.chain(head, batches)


def similar_(args) -> None:
    from firth.models.encoder import SentenceEncoder

    encoder = SentenceEncoder.load(args.model)
    texts = text_lines(args.corpus)
    vectors = encoder.encode(texts, normalize_embeddings=True)
    query = encoder.encode([args.query], normalize_embeddings=True)[0]
    scores = vectors @ query
    for i in scores.argsort()[::-1][:args.k]:
        print(json.dumps({"score": round(float(scores[i]), 4), "line": int(i) + 1, "text": texts[i]},
                         ensure_ascii=False))


def _sentence_groups(path: str) -> list[list[str]]:
    """Groups of sentences: one sentence a line, groups separated by blank lines."""
    from firth.text.readers import iter_lines

    groups: list[list[str]] = [[]]
    for _, line in iter_lines(path):
        if line.strip():
            groups[-1].append(line.strip())
        elif groups[-1]:
            groups.append([])
    groups = [g for g in groups if g]
    if len(groups) < 2:
        raise FirthError(f"{path}: needs at least two groups of sentences separated by a blank line.")
    return groups


def heatmap_(args) -> None:
    import numpy as np

    from firth.evaluate.plots import plot_similarity_heatmap
    from firth.evaluate.retrieval import block_matrix, block_overlap_scores
    from firth.models.encoder import SentenceEncoder

    check_output(Path(args.output or Path(args.input).with_suffix(".png")), args.input, args.model)
    encoder = SentenceEncoder.load(args.model)
    groups = _sentence_groups(args.input)
    sentences = [s for group in groups for s in group]
    labels = np.array([g for g, group in enumerate(groups) for _ in group])
    vectors = encoder.encode(sentences, normalize_embeddings=True)
    similarity = vectors @ vectors.T
    png = Path(args.output or Path(args.input).with_suffix(".png"))
    plot_similarity_heatmap(similarity, block_matrix(labels), sentences, png)
    scores = block_overlap_scores(similarity, labels)
    print(", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    print(f"heatmap: {png}")
