"""`firth <family> <verb>`: the command line.

Every problem a user can cause ends in one sentence on stderr and exit
status 1 (2 for bad command-line syntax, as argparse does); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import firth
from firth.errors import FirthError

EXIT_USER_ERROR = 1


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        args.run(args)
    except FirthError as e:
        print(f"firth: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("firth: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="firth", description="Text representations without vocabulary tables.")
    parser.add_argument("--version", action="version", version=f"firth {firth.__version__}")
    families = parser.add_subparsers(title="families", metavar="FAMILY")
    _add_data(families)
    _add_classify(families)
    _add_word2vec(families)
    _add_encoder(families)
    return parser


def _family(families, name: str, help: str):
    family = families.add_parser(name, help=help, description=help)
    family.set_defaults(run=lambda args: family.print_help())
    return family.add_subparsers(title="verbs", metavar="VERB")


# ---- firth data -------------------------------------------------------------

def _add_data(families) -> None:
    verbs = _family(families, "data", "Real public datasets: list and fetch them by name.")
    listing = verbs.add_parser("list", help="Show every dataset, what it is, and whether it is cached.")
    listing.set_defaults(run=_data_list)
    get = verbs.add_parser("get", help="Fetch datasets into the cache (nothing is done for cached ones).")
    get.add_argument("names", nargs="*", metavar="NAME")
    get.add_argument("--all", action="store_true", help="fetch every dataset in the registry")
    get.set_defaults(run=_data_get)


def _format_counts(counts: dict) -> str:
    return ", ".join(f"{k} {len(v) if isinstance(v, dict) else v:,}" for k, v in counts.items())


def _data_list(args) -> None:
    from firth.data import DATASETS, firth_home, read_manifest

    print(f"datasets cached under {firth_home()} (set FIRTH_HOME to move it)\n")
    for name, spec in DATASETS.items():
        manifest = read_manifest(name)
        status = "cached" if manifest else "not cached"
        print(f"{name:16} {spec.kind:15} {status}")
        print(f"    {spec.description}")
        if manifest:
            print(f"    counts: {_format_counts(manifest['counts'])}")
        print(f"    source: {spec.source}")
        print(f"    licence: {spec.licence}")


def _data_get(args) -> None:
    from firth.data import DATASETS, get, read_manifest

    names = list(DATASETS) if args.all else args.names
    if not names:
        raise FirthError("name at least one dataset, or pass --all (see `firth data list`).")
    for name in names:
        path = get(name)
        print(f"{name}: {_format_counts(read_manifest(name)['counts'])} ({path})")


# ---- firth classify ---------------------------------------------------------

def _add_classify(families) -> None:
    from firth.features import FEATURES
    from firth.models import MODELS

    verbs = _family(families, "classify", "Text classifiers: train, evaluate, predict.")
    train = verbs.add_parser(
        "train", help="Train a classifier on a dataset name or a labelled file/folder.",
        description="Train on DATA (a registry name: its train split; or a labelled file/folder). "
                    "For a registry name, the test split is evaluated at the end.")
    train.add_argument("data", metavar="DATA")
    _add_reader_options(train)
    train.add_argument("--test", metavar="FILE", help="a labelled file to evaluate on after training")
    train.add_argument("--features", choices=sorted(FEATURES),
                       help="input features (default: projection for sgnn, tfidf otherwise)")
    train.add_argument("--feature-param", action="append", default=[], metavar="KEY=VALUE",
                       help="a featurizer parameter, e.g. mode=float or ngram_range=[1,4] (repeatable)")
    train.add_argument("--model", default="softmax", choices=sorted(MODELS))
    train.add_argument("--hidden", type=int, nargs="+", default=[256], help="hidden layer sizes (mlp, sgnn)")
    train.add_argument("--dropout", type=float, default=0.2)
    train.add_argument("--pooling", default="mean", choices=["mean", "max", "meanmax", "attention"], help="sgnn pooling")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=1e-2)
    train.add_argument("--optimizer", default="adam", choices=["sgd", "adam", "adamw"])
    train.add_argument("--weight-decay", type=float, default=0.0)
    train.add_argument("--C", type=float, help="inverse L2 strength as in LogisticRegression "
                       "(weight decay 1/(C x training texts)); overrides --weight-decay")
    train.add_argument("--schedule", default="constant", choices=["constant", "linear", "cosine", "noam"])
    train.add_argument("--warmup", type=int, default=0, help="warm-up steps")
    train.add_argument("--clip-grad", type=float, help="clip the gradient norm to this")
    train.add_argument("--patience", type=int, default=3,
                       help="stop after this many evaluations without improvement")
    train.add_argument("--monitor", default="val_loss", choices=["val_loss", "val_acc"])
    train.add_argument("--val-fraction", type=float, default=0.1,
                       help="share of the training data held out for early stopping (0: none, train on all)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="auto, cpu or cuda")
    train.add_argument("--out", metavar="DIR", help="run directory (default runs/<data>)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(run=_classify_train)

    evaluate = verbs.add_parser("eval", help="Accuracy, macro-F1, per-class report, confusion matrix.")
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("data", metavar="DATA", help="a registry name (its test split) or a labelled file")
    _add_reader_options(evaluate)
    evaluate.add_argument("--confusion", metavar="PNG",
                          help="where to draw the confusion matrix (default beside MODEL)")
    evaluate.set_defaults(run=_classify_eval)

    predict = verbs.add_parser("predict", help="Labels with probabilities as JSON lines.")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("input", metavar="FILE", nargs="?", default="-",
                         help="one text per line; - or nothing reads standard input")
    predict.set_defaults(run=_classify_predict)


def _add_reader_options(parser) -> None:
    from firth.text.readers import FORMATS

    parser.add_argument("--format", choices=FORMATS, help="file format (default: from the extension)")
    parser.add_argument("--text-column", default="text", help="CSV/TSV column or JSON key of the text")
    parser.add_argument("--label-column", default="label", help="CSV/TSV column or JSON key of the label")


def _labelled(data: str, args, split: str):
    """(texts, labels) from a registry name's `split` or from a labelled file/folder."""
    from firth.data import DATASETS, load
    from firth.text.readers import read_labelled

    if Path(data).exists():
        return read_labelled(data, args.format, args.text_column, args.label_column)
    if data in DATASETS:
        if DATASETS[data].kind != "classification":
            raise FirthError(f"dataset {data!r} is a {DATASETS[data].kind} dataset, not a labelled one.")
        return getattr(load(data), split)
    raise FirthError(f"{data}: no such file or folder, and not a dataset name (see `firth data list`).")


def _report_scores(name: str, labels, predicted) -> None:
    from firth.evaluate.metrics import classification_scores

    scores = classification_scores(labels, predicted)
    print(f"{name}: accuracy {scores['accuracy']:.4f}  macro-F1 {scores['macro_f1']:.4f}  ({len(labels)} documents)")


def _classify_train(args) -> None:
    from firth.data import DATASETS
    from firth.models.classifier import TextClassifier

    train = _labelled(args.data, args, "train")
    out = Path(args.out or Path("runs") / Path(args.data).stem)
    clf = TextClassifier(features=args.features, model=args.model,
                         feature_params=_key_values(args.feature_param), hidden=tuple(args.hidden),
                         dropout=args.dropout, pooling=args.pooling, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                         weight_decay=args.weight_decay, C=args.C, schedule=args.schedule, warmup=args.warmup,
                         clip_grad=args.clip_grad, patience=args.patience, monitor=args.monitor,
                         val_fraction=args.val_fraction, seed=args.seed, device=args.device, progress=not args.quiet, out_dir=str(out))
    clf.fit(train.texts, train.labels, resume=args.resume)
    clf.save(out / "model")
    epochs = len(clf.history_)
    print(f"trained {args.model} on {clf._features_name()} features: {len(train.texts)} documents, "
          f"{len(clf.classes_)} classes, {epochs} epochs")
    test = None
    if args.test:
        test = _labelled(args.test, args, "test")
    elif args.data in DATASETS and not Path(args.data).exists():
        test = _labelled(args.data, args, "test")
    if test is not None:
        _report_scores("test", test.labels, clf.predict(test.texts))
    print(f"model: {out / 'model'}  metrics: {out / 'metrics.jsonl'}  plot: {out / 'learning_curve.png'}")


def _key_values(pairs: list[str]) -> dict | None:
    """KEY=VALUE strings as a dict; values are read as JSON when they parse, else kept as text."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise FirthError(f"--feature-param {pair!r} is not KEY=VALUE.")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params or None


def _classify_eval(args) -> None:
    from firth.evaluate.metrics import confusion, per_class_report
    from firth.evaluate.plots import plot_confusion
    from firth.models.classifier import TextClassifier

    clf = TextClassifier.load(args.model)
    data = _labelled(args.data, args, "test")
    unknown = sorted(set(data.labels) - set(clf.classes_))
    if unknown:
        raise FirthError(f"{args.data}: has labels the model was not trained on ({', '.join(unknown[:5])}); "
                         f"the model knows {', '.join(map(str, clf.classes_))}.")
    predicted = clf.predict(data.texts)
    _report_scores("eval", data.labels, predicted)
    classes = sorted(set(clf.classes_) | set(data.labels))
    print(per_class_report(data.labels, predicted, classes))
    png = Path(args.confusion or Path(args.model).resolve().parent / "confusion_matrix.png")
    plot_confusion(confusion(data.labels, predicted, classes), classes, png)
    print(f"confusion matrix: {png}")


def _classify_predict(args) -> None:
    from firth.models.classifier import TextClassifier
    from firth.text.readers import iter_lines

    clf = TextClassifier.load(args.model)
    source = "standard input" if args.input == "-" else args.input
    lines = enumerate(sys.stdin, start=1) if args.input == "-" else iter_lines(args.input)
    texts = [line.rstrip("\r\n") for _, line in lines]
    empty = next((i for i, text in enumerate(texts, start=1) if not text.strip()), None)
    if empty is not None:
        raise FirthError(f"{source}: line {empty} is empty; give one text per line.")
    for row in clf.predict_proba(texts):
        best = int(row.argmax())
        probabilities = {str(c): round(float(p), 6) for c, p in zip(clf.classes_, row)}
        print(json.dumps({"label": str(clf.classes_[best]), "probability": round(float(row[best]), 6),
                          "probabilities": probabilities}))


# ---- firth word2vec ---------------------------------------------------------

def _add_word2vec(families) -> None:
    verbs = _family(families, "word2vec", "Skip-gram word vectors: train, query, evaluate, plot.")
    train = verbs.add_parser(
        "train", help="Train word vectors on paragraph corpora (registry names or files).",
        description="Train skip-gram vectors on CORPUS (registry paragraph corpora such as wiki-sample, or "
                    "files: plain text with blank lines between paragraphs, JSON lines, MediaWiki XML). "
                    "Windows never cross a paragraph.")
    train.add_argument("corpus", nargs="+", metavar="CORPUS")
    train.add_argument("--model", default="negative", choices=["negative", "softmax"],
                       help="negative sampling (fast) or the textbook full softmax (tiny corpora)")
    train.add_argument("--input", default="table", choices=["table", "projection"],
                       help="a vector per vocabulary word, or SGNN projections (vectors for any word)")
    train.add_argument("--dim", type=int, default=100)
    train.add_argument("--window", type=int, default=5)
    train.add_argument("--negative", type=int, default=5)
    train.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold (0: none)")
    train.add_argument("--min-count", type=int, default=5)
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--lr", type=float, help="start learning rate (default 0.025; 0.003 for softmax)")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--workers", type=int, default=2, help="training threads")
    train.add_argument("--seed", type=int, default=1)
    train.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    train.add_argument("--show", nargs="+", default=[], metavar="WORD",
                       help="print these words' nearest neighbours after every epoch")
    train.add_argument("--out", metavar="DIR", default="runs/word2vec",
                       help="run directory: model/ and metrics.jsonl (default runs/word2vec)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_word2vec_train)

    neighbors = verbs.add_parser("neighbors", help="The nearest words by cosine similarity.")
    neighbors.add_argument("model", metavar="MODEL")
    neighbors.add_argument("words", nargs="+", metavar="WORD")
    neighbors.add_argument("--topn", type=int, default=10)
    neighbors.set_defaults(run=_word2vec_neighbors)

    analogy = verbs.add_parser("analogy", help="a is to b as c is to ?")
    analogy.add_argument("model", metavar="MODEL")
    analogy.add_argument("a")
    analogy.add_argument("b")
    analogy.add_argument("c")
    analogy.add_argument("--topn", type=int, default=5)
    analogy.add_argument("--method", default="3cosadd", choices=["3cosadd", "3cosmul"])
    analogy.set_defaults(run=_word2vec_analogy)

    evaluate = verbs.add_parser(
        "evaluate", help="Analogy accuracy, WordSim-353 and SimLex-999 Spearman (registry benchmarks).")
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("--restrict-vocab", type=int, default=30_000,
                          help="only the most frequent words count as known")
    evaluate.set_defaults(run=_word2vec_evaluate)

    plot = verbs.add_parser("plot", help="A 2-D map (t-SNE or PCA) of the most frequent words, as PNG.")
    plot.add_argument("model", metavar="MODEL")
    plot.add_argument("--words", type=int, default=300, help="how many of the most frequent words")
    plot.add_argument("--method", default="tsne", choices=["tsne", "pca"])
    plot.add_argument("--output", metavar="PNG", help="default: word_map.png beside the model directory")
    plot.set_defaults(run=_word2vec_plot)

    export = verbs.add_parser("export", help="Write the vectors in word2vec text or binary format.")
    export.add_argument("model", metavar="MODEL")
    export.add_argument("output", metavar="FILE")
    export.add_argument("--binary", action="store_true", help="binary format (default: text)")
    export.set_defaults(run=_word2vec_export)


def _paragraph_words(sources: list[str]):
    """Every paragraph of the corpora as a word list, streamed."""
    from firth.data import paragraphs
    from firth.text.segment import words

    for source in sources:
        for paragraph in paragraphs(source):
            yield words(paragraph.text)


def _word2vec_train(args) -> None:
    from firth.data import paragraphs
    from firth.models.word2vec import Word2Vec

    for source in args.corpus:  # every corpus is checked before training starts
        paragraphs(source)
    out = Path(args.out)
    w2v = Word2Vec(model=args.model, input=args.input, dim=args.dim, window=args.window, negative=args.negative,
                   sample=args.sample, min_count=args.min_count, epochs=args.epochs, lr=args.lr,
                   batch_size=args.batch_size, workers=args.workers, seed=args.seed, device=args.device,
                   progress=not args.quiet)
    w2v.fit(_paragraph_words(args.corpus), validation_words=args.show, out_dir=out)
    w2v.wv_.save(out / "model")
    speed = w2v.history_[-1].get("words_per_s") if w2v.history_ else None
    print(f"trained {args.model} skip-gram: {len(w2v.wv_):,} words, dim {w2v.wv_.vector_size}, "
          f"{args.epochs} epochs" + (f", {speed:,} words/s" if speed else ""))
    print(f"model: {out / 'model'}  metrics: {out / 'metrics.jsonl'}")


def _load_vectors(path: str):
    from firth.vectors import KeyedVectors

    if not Path(path).is_dir():
        raise FirthError(f"{path}: no such model directory.")
    return KeyedVectors.load(path)


def _word2vec_neighbors(args) -> None:
    vectors = _load_vectors(args.model)
    for word in args.words:
        neighbours = vectors.most_similar(word, topn=args.topn)
        print(f"{word}: " + ", ".join(f"{w} ({score:.3f})" for w, score in neighbours))


def _word2vec_analogy(args) -> None:
    vectors = _load_vectors(args.model)
    answers = vectors.analogy(args.a, args.b, args.c, topn=args.topn, method=args.method)
    print(f"{args.a} : {args.b} :: {args.c} : " + ", ".join(f"{w} ({score:.3f})" for w, score in answers))


def _word2vec_evaluate(args) -> None:
    from firth.data import load

    vectors = _load_vectors(args.model)
    analogies = vectors.evaluate_word_analogies(load("word-analogies"), restrict_vocab=args.restrict_vocab)
    print(f"analogies (3CosAdd, {args.restrict_vocab:,} most frequent words): accuracy {analogies.score:.4f}, "
          f"{analogies.oov_ratio:.1f}% of questions out of vocabulary")
    for name in ("wordsim353", "simlex999"):
        result = vectors.evaluate_word_pairs(load(name), restrict_vocab=args.restrict_vocab)
        print(f"{name}: Spearman {result.spearman[0]:.4f}, Pearson {result.pearson[0]:.4f}, "
              f"{result.oov_ratio:.1f}% of pairs out of vocabulary")


def _word2vec_plot(args) -> None:
    from firth.evaluate.plots import plot_word_map, word_map_coordinates

    vectors = _load_vectors(args.model)
    if args.words < 2:
        raise FirthError(f"--words must be at least 2, got {args.words}.")
    words = vectors.index_to_key[:args.words]
    points = word_map_coordinates(vectors.unit_vectors[:len(words)], args.method)
    png = Path(args.output or Path(args.model).resolve().parent / "word_map.png")
    method = {"tsne": "t-SNE", "pca": "PCA"}[args.method]
    plot_word_map(words, points, png, title=f"{method} map of the {len(words)} most frequent words")
    print(f"word map: {png}")


def _word2vec_export(args) -> None:
    vectors = _load_vectors(args.model)
    vectors.save_word2vec_format(args.output, binary=args.binary)
    print(f"{len(vectors):,} vectors of dim {vectors.vector_size} written to {args.output}")


# ---- firth encoder ----------------------------------------------------------

def _add_encoder(families) -> None:
    from firth.losses import LOSSES
    from firth.models.encoder import POOLINGS, EncoderConfig

    verbs = _family(families, "encoder", "Sentence encoders learned from paragraphs: train, embed, search, inspect.")
    train = verbs.add_parser(
        "train", help="Train a sentence encoder on paragraph corpora (registry names or files).",
        description="Train on the paragraphs of CORPUS (registry paragraph corpora such as wiki-sample, or "
                    "files: plain text with blank lines between paragraphs, JSON lines, MediaWiki XML). "
                    "The benchmark's held-out paragraphs of the registry corpora are left out.")
    train.add_argument("corpus", nargs="+", metavar="CORPUS")
    model = EncoderConfig()  # the defaults: the configuration benchmarks/encoder.py measures
    train.add_argument("--loss", default="infonce", choices=sorted(LOSSES))
    train.add_argument("--temperature", type=float, help="infonce and supcon temperature")
    train.add_argument("--exclude-diagonal", action="store_true", help="bxent: leave out each sentence with itself")
    train.add_argument("--pos-weight", type=float, help="bxent: weight of the same-paragraph pairs")
    train.add_argument("--word-weight", type=float, default=0.0, help="weight of the word-level BXENT head (0: none)")
    train.add_argument("--d-model", type=int, default=model.d_model)
    train.add_argument("--layers", type=int, default=model.n_layers)
    train.add_argument("--heads", type=int, default=model.n_heads)
    train.add_argument("--d-ff", type=int, default=model.d_ff)
    train.add_argument("--dropout", type=float, default=model.dropout)
    train.add_argument("--post-ln", action="store_true", help="LayerNorm after each block, as in the 2017 paper")
    train.add_argument("--pooling", default=model.pooling, choices=POOLINGS)
    train.add_argument("--concat-layers", action=argparse.BooleanOptionalAction, default=model.concat_layers,
                       help="pool the input and every layer, concatenated")
    train.add_argument("--lexical", action=argparse.BooleanOptionalAction, default=model.lexical,
                       help="add the IDF-weighted bag of the words' projections to the sentence vector")
    train.add_argument("--lexical-share", type=float, default=model.lexical_share,
                       help="the bag's share of the cosine of two sentence vectors")
    train.add_argument("--head-dim", type=int, help="a Linear head on the pooled vector")
    train.add_argument("--feature-param", action="append", default=[], metavar="KEY=VALUE",
                       help=f"a projection parameter beside {model.projection}, e.g. ngram_range=[1,3] "
                            f"(repeatable)")
    train.add_argument("--fold", type=int, default=model.fold,
                       help="the Transformer reads the projection at bits / FOLD (the lexical bag reads it whole)")
    train.add_argument("--max-words", type=int, default=model.max_words, help="words of a training sentence kept")
    train.add_argument("--batch-size", type=int, default=256, help="sentences per batch")
    train.add_argument("--max-per-paragraph", type=int, default=2, help="sentences of one paragraph in a batch")
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    train.add_argument("--schedule", default="noam", choices=["constant", "linear", "cosine", "noam"])
    train.add_argument("--warmup", type=int, default=200, help="warm-up steps")
    train.add_argument("--clip-grad", type=float, default=1.0)
    train.add_argument("--eval-every", type=int, default=500, help="validate by retrieval every N steps")
    train.add_argument("--val-paragraphs", type=int, default=200)
    train.add_argument("--patience", type=int, help="stop after this many validations without a better MRR")
    train.add_argument("--workers", type=int, default=1, help="DataLoader processes featurizing batches ahead")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="auto, cpu or cuda")
    train.add_argument("--out", metavar="DIR", default="runs/encoder", help="run directory (default runs/encoder)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(run=_encoder_train)

    embed = verbs.add_parser("embed", help="Vectors of the lines of a file, as .npy or JSON lines.")
    embed.add_argument("model", metavar="MODEL")
    embed.add_argument("input", metavar="FILE", help="one text per line; - reads standard input")
    embed.add_argument("--output", metavar="FILE", required=True, help="a .npy file, or JSON lines otherwise")
    embed.add_argument("--batch-size", type=int, default=64)
    embed.add_argument("--normalize", action="store_true", help="unit-length vectors")
    embed.set_defaults(run=_encoder_embed)

    similar = verbs.add_parser("similar", help="The lines of a corpus file most similar to a query.")
    similar.add_argument("model", metavar="MODEL")
    similar.add_argument("--query", required=True)
    similar.add_argument("--corpus", required=True, metavar="FILE", help="one text per line")
    similar.add_argument("-k", type=int, default=10)
    similar.set_defaults(run=_encoder_similar)

    heatmap = verbs.add_parser(
        "heatmap", help="Similarity matrix of grouped sentences beside the expected block-diagonal one.",
        description="FILE holds one sentence per line, groups separated by blank lines. Writes the PNG and "
                    "prints the overlap's Jaccard, F1 and accuracy.")
    heatmap.add_argument("model", metavar="MODEL")
    heatmap.add_argument("input", metavar="FILE")
    heatmap.add_argument("--output", metavar="PNG", help="default: FILE with .png")
    heatmap.set_defaults(run=_encoder_heatmap)


def _encoder_train(args) -> None:
    from firth.data import DATASETS, paragraphs
    from firth.models.encoder import EncoderConfig
    from firth.train.encoder import train_encoder
    from firth.train.trainer import TrainConfig

    for source in args.corpus:
        paragraphs(source)  # every corpus is checked before anything is read
    config = EncoderConfig(projection={**EncoderConfig().projection, **(_key_values(args.feature_param) or {})},
                           d_model=args.d_model, n_layers=args.layers, n_heads=args.heads, d_ff=args.d_ff,
                           dropout=args.dropout, pre_ln=not args.post_ln, pooling=args.pooling,
                           concat_layers=args.concat_layers, lexical=args.lexical, head_dim=args.head_dim,
                           lexical_share=args.lexical_share, fold=args.fold, max_words=args.max_words)
    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, betas=(0.9, 0.98), eps=1e-9,
                        schedule=args.schedule, warmup=args.warmup, clip_grad=args.clip_grad,
                        patience=args.patience, monitor="val_MRR", eval_every=args.eval_every, seed=args.seed,
                        device=args.device, progress=not args.quiet, num_workers=args.workers)
    options = {k: v for k, v in (("temperature", args.temperature), ("pos_weight", args.pos_weight)) if v is not None}
    if args.exclude_diagonal:
        options["exclude_diagonal"] = True
    registry = [s for s in args.corpus if s in DATASETS and not Path(s).exists()]
    out = Path(args.out)
    encoder, history = train_encoder(args.corpus, config, train, args.loss, options, args.word_weight,
                                     args.max_per_paragraph, args.val_paragraphs, _heldout_keys(registry),
                                     out_dir=out, resume=args.resume)
    encoder.save(out / "model")
    last = history[-1] if history else {}
    print(f"trained a {encoder.n_parameters():,}-parameter encoder ({args.loss}): "
          f"validation R@1 {last.get('val_R1', float('nan')):.4f}, MRR {last.get('val_MRR', float('nan')):.4f}, "
          f"{last.get('tokens_per_s', 0):,.0f} tokens/s, data wait {last.get('data_wait', 0):.1%}")
    print(f"model: {out / 'model'}  metrics: {out / 'metrics.jsonl'}  plot: {out / 'learning_curve.png'}")


def _heldout_keys(registry_sources: list[str]) -> frozenset:
    """The (corpus, paragraph index) keys the encoder benchmark holds out of these registry corpora."""
    from firth.evaluate.retrieval import heldout_split

    return heldout_split().keys if registry_sources else frozenset()


def _text_lines(path: str) -> list[str]:
    """The lines of a file (or of standard input for -), each a text; an empty line is a clear error."""
    from firth.text.readers import iter_lines

    source = "standard input" if path == "-" else path
    lines = enumerate(sys.stdin, start=1) if path == "-" else iter_lines(path)
    texts = [line.rstrip("\r\n") for _, line in lines]
    empty = next((i for i, text in enumerate(texts, start=1) if not text.strip()), None)
    if empty is not None:
        raise FirthError(f"{source}: line {empty} is empty; give one text per line.")
    if not texts:
        raise FirthError(f"{source}: has no text.")
    return texts


def _encoder_embed(args) -> None:
    import numpy as np

    from firth.io.atomic import atomic_path
    from firth.models.encoder import SentenceEncoder

    encoder = SentenceEncoder.load(args.model)
    vectors = encoder.encode(_text_lines(args.input), batch_size=args.batch_size,
                             normalize_embeddings=args.normalize)
    with atomic_path(args.output) as tmp:
        if args.output.endswith(".npy"):
            with open(tmp, "wb") as f:
                np.save(f, vectors)
        else:
            tmp.write_text("".join(json.dumps([round(float(x), 6) for x in row]) + "\n" for row in vectors),
                           encoding="utf-8")
    print(f"{len(vectors):,} vectors of dim {vectors.shape[1]} written to {args.output}")


def _encoder_similar(args) -> None:
    from firth.models.encoder import SentenceEncoder

    encoder = SentenceEncoder.load(args.model)
    texts = _text_lines(args.corpus)
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


def _encoder_heatmap(args) -> None:
    import numpy as np

    from firth.evaluate.plots import plot_similarity_heatmap
    from firth.evaluate.retrieval import block_overlap_scores
    from firth.models.encoder import SentenceEncoder

    encoder = SentenceEncoder.load(args.model)
    groups = _sentence_groups(args.input)
    sentences = [s for group in groups for s in group]
    labels = np.array([g for g, group in enumerate(groups) for _ in group])
    vectors = encoder.encode(sentences, normalize_embeddings=True)
    similarity = vectors @ vectors.T
    expected = (labels[:, None] == labels[None, :]).astype(np.float32)
    png = Path(args.output or Path(args.input).with_suffix(".png"))
    plot_similarity_heatmap(similarity, expected, sentences, png)
    scores = block_overlap_scores(similarity, labels)
    print(", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    print(f"heatmap: {png}")
