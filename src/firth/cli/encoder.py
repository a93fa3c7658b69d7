"""`firth encoder`: train sentence encoders on paragraphs, embed, search and inspect."""

from __future__ import annotations

import json
from pathlib import Path

from firth.cli.inputs import add_shard_option, check_output, family, positive_int, prepare_run_dir, shard_path
from firth.cli.options import add_parser, add_training_options, config_from_args
from firth.cli.ship import command_line, describe_sources
from firth.config import EncoderConfig
from firth.errors import FirthError
from firth.text.readers import text_batches, text_lines


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
    if not distributed.is_main():  # under torchrun, rank 0 reports and saves
        return
    encoder.card_["data"]["source"] = describe_sources(args.corpus) + " (the encoder benchmark's held-out paragraphs "\
        "of registry corpora left out)"
    encoder.card_["command"] = command_line(args)
    encoder.save(out / "model")
    last = encoder.history_[-1] if encoder.history_ else {}
    print(f"trained a {encoder.n_parameters():,}-parameter encoder ({config.loss}): "
          f"validation R@1 {last.get('val_R1', float('nan')):.4f}, MRR {last.get('val_MRR', float('nan')):.4f}, "
          f"{last.get('tokens_per_s', 0):,.0f} tokens/s, data wait {last.get('data_wait', 0):.1%}")
    print(f"model: {out / 'model'}  metrics: {out / 'metrics.jsonl'}  plot: {out / 'learning_curve.png'}")


def embed_(args) -> None:
    from firth.io.atomic import atomic_path
    from firth.io.rows import RowWriter
    from firth.models.encoder import SentenceEncoder

    output = shard_path(args.output, args.shard)
    check_output(output, args.input, args.model)
    encoder = SentenceEncoder.load(args.model)
    with atomic_path(output) as tmp:
        writer = RowWriter(tmp, npy=output.endswith(".npy"))
        try:
            # one encoder batch per read: longer reads sorted by length ramp up the allocations' sizes,
            # which fragments the C heap and lets memory creep up with the input (benchmarks/RESULTS.md)
            for texts in text_batches(args.input, max_lines=args.batch_size, shard=args.shard):
                writer.write(encoder.encode(texts, batch_size=args.batch_size, normalize_embeddings=args.normalize))
        finally:
            writer.close()
    print(f"{writer.rows:,} vectors of dim {writer.dim} written to {output}")


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
