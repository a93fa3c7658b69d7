"""`firth word2vec`: train skip-gram vectors, query, evaluate, plot and export them."""

from __future__ import annotations

from pathlib import Path

from firth.cli.ship import command_line, describe_sources
from firth.cli.inputs import check_output, family, positive_int, prepare_run_dir
from firth.cli.options import add_parser, add_training_options, config_from_args
from firth.config import Word2VecConfig
from firth.errors import FirthError
from firth.registry import ANALOGY_METHODS


def add(families) -> None:
    verbs = family(families, "word2vec", "Skip-gram word vectors: train, query, evaluate, plot.")
    train = add_parser(
        verbs, "train", "Train word vectors on paragraph corpora (registry names or files).",
        "Train skip-gram vectors on CORPUS (registry paragraph corpora such as wiki-sample, or files: plain "
        "text with blank lines between paragraphs, JSON lines, MediaWiki XML). Windows never cross a paragraph.")
    train.add_argument("corpus", nargs="+", metavar="CORPUS")
    train.add_argument("--show", nargs="+", default=[], metavar="WORD",
                       help="print these words' nearest neighbours after every epoch")
    add_training_options(train, Word2VecConfig, "runs/word2vec", "run directory: model/ and metrics.jsonl",
                         resume=False)
    train.set_defaults(run=train_)

    neighbors = add_parser(verbs, "neighbors", "The nearest words by cosine similarity.")
    neighbors.add_argument("model", metavar="MODEL")
    neighbors.add_argument("words", nargs="+", metavar="WORD")
    neighbors.add_argument("--topn", type=positive_int, default=10, help="how many neighbours of each word")
    neighbors.set_defaults(run=neighbors_)

    analogy = add_parser(verbs, "analogy", "a is to b as c is to ?")
    analogy.add_argument("model", metavar="MODEL")
    analogy.add_argument("a")
    analogy.add_argument("b")
    analogy.add_argument("c")
    analogy.add_argument("--topn", type=positive_int, default=5, help="how many answers")
    analogy.add_argument("--method", default="3cosadd", choices=ANALOGY_METHODS,
                         help="3CosAdd (b - a + c) or 3CosMul (Levy & Goldberg)")
    analogy.set_defaults(run=analogy_)

    evaluate = add_parser(verbs, "evaluate",
                          "Analogy accuracy, WordSim-353 and SimLex-999 Spearman (registry benchmarks).")
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("--restrict-vocab", type=positive_int, default=30_000, help="only the most frequent words count as known")
    evaluate.set_defaults(run=evaluate_)

    plot = add_parser(verbs, "plot", "A 2-D map (t-SNE or PCA) of the most frequent words, as PNG.")
    plot.add_argument("model", metavar="MODEL")
    plot.add_argument("--words", type=positive_int, default=300, help="how many of the most frequent words")
    plot.add_argument("--method", default="tsne", choices=["tsne", "pca"], help="how the map is drawn")
    plot.add_argument("--output", metavar="PNG", help="default: word_map.png beside the model directory")
    plot.set_defaults(run=plot_)

    export = add_parser(verbs, "export", "Write the vectors in word2vec text or binary format.")
    export.add_argument("model", metavar="MODEL")
    export.add_argument("output", metavar="FILE")
    export.add_argument("--binary", action="store_true", help="binary format (default: text)")
    export.set_defaults(run=export_)


def train_(args) -> None:
    from firth.data import paragraph_words
    from firth.models.word2vec import Word2Vec

    config = config_from_args(Word2VecConfig, args, progress=not args.quiet)
    out = Path(args.out)
    prepare_run_dir(out, False, args.overwrite)
    sentences = paragraph_words(args.corpus)  # streamed: read once to count, then once an epoch
    w2v = Word2Vec.from_config(config).fit(sentences, validation_words=args.show, out_dir=out)
    w2v.card_["data"]["source"] = describe_sources(args.corpus)
    w2v.card_["command"] = command_line(args)
    w2v.save(out / "model")
    speed = w2v.history_[-1].get("words_per_s") if w2v.history_ else None
    print(f"trained {config.model} skip-gram: {len(w2v.wv_):,} words, dim {w2v.wv_.vector_size}, "
          f"{config.epochs} epochs" + (f", {speed:,} words/s" if speed else ""))
    print(f"model: {out / 'model'}  metrics: {out / 'metrics.jsonl'}")


def _load_vectors(path: str):
    """The word vectors of a Word2Vec or KeyedVectors model directory."""
    from firth.vectors import KeyedVectors

    return KeyedVectors.load(path)


def neighbors_(args) -> None:
    vectors = _load_vectors(args.model)
    for word in args.words:
        neighbours = vectors.most_similar(word, topn=args.topn)
        print(f"{word}: " + ", ".join(f"{w} ({score:.3f})" for w, score in neighbours))


def analogy_(args) -> None:
    vectors = _load_vectors(args.model)
    answers = vectors.analogy(args.a, args.b, args.c, topn=args.topn, method=args.method)
    print(f"{args.a} : {args.b} :: {args.c} : " + ", ".join(f"{w} ({score:.3f})" for w, score in answers))


def evaluate_(args) -> None:
    from firth.data import load

    vectors = _load_vectors(args.model)
    analogies = vectors.evaluate_word_analogies(load("word-analogies"), restrict_vocab=args.restrict_vocab)
    print(f"analogies (3CosAdd, {args.restrict_vocab:,} most frequent words): accuracy {analogies.score:.4f}, "
          f"{analogies.oov_ratio:.1f}% of questions out of vocabulary")
    for name in ("wordsim353", "simlex999"):
        result = vectors.evaluate_word_pairs(load(name), restrict_vocab=args.restrict_vocab)
        print(f"{name}: Spearman {result.spearman[0]:.4f}, Pearson {result.pearson[0]:.4f}, "
              f"{result.oov_ratio:.1f}% of pairs out of vocabulary")


def plot_(args) -> None:
    from firth.evaluate.plots import plot_word_map, word_map_coordinates

    vectors = _load_vectors(args.model)
    if args.words < 2:
        raise FirthError(f"--words must be at least 2, got {args.words}.")
    words = vectors.index_to_key[:args.words]
    points = word_map_coordinates(vectors.unit_vectors[:len(words)], args.method)
    png = Path(args.output or Path(args.model).resolve().parent / "word_map.png")
    check_output(png, args.model)
    method = {"tsne": "t-SNE", "pca": "PCA"}[args.method]
    plot_word_map(words, points, png, title=f"{method} map of the {len(words)} most frequent words")
    print(f"word map: {png}")


def export_(args) -> None:
    check_output(args.output, args.model)
    vectors = _load_vectors(args.model)
    vectors.save_word2vec_format(args.output, binary=args.binary)
    print(f"{len(vectors):,} vectors of dim {vectors.vector_size} written to {args.output}")
