"""A linear baseline for lstm_gru_text.py: the same sentences, split and test set, no network.

NBSVM (Wang & Manning, 2012): each sentence as the set of its words and word pairs (uni- and
bigrams), each feature weighed by how much more often it appears in positive than in negative
training sentences (its log-count ratio), then logistic regression. `--model logreg` leaves the
weighing out; `--model nb` is multinomial naive Bayes on the same features. The regularisation
(C, or naive Bayes' smoothing) is chosen on the validation sentences from a fixed grid; the test
sentences are read once, at the end. What it reaches beside the recurrent models is generated in
results/TEXT.md.

    python text_baseline.py                  # NBSVM, seed 1
    python text_baseline.py --model all --seeds 1,2,3
"""
import argparse

from companion import cli  # isort: skip

MODELS = ("nbsvm", "logreg", "nb")
# the grid the validation sentences choose from, fixed before any run
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
ALPHA_GRID = (0.1, 0.3, 1.0, 3.0)


def build_parser():
    parser = cli.new_parser(__doc__)
    parser.add_argument("--model", choices=[*MODELS, "all"], default="nbsvm",
                        help="NBSVM, logistic regression or naive Bayes on word uni- and "
                             "bigrams, or each in turn")
    parser.add_argument("--ngrams", type=cli.int_range(1, 3), default=2, metavar="N",
                        help="word n-grams from 1 to N")
    parser.add_argument("--seeds", type=cli.seed_list, default=None, metavar="N,N",
                        help="run once per seed (e.g. 1,2,3); overrides --seed. The solvers "
                             "are deterministic, so every seed gives the same accuracy")
    cli.add_common_arguments(parser, dry_run="smoke test: 1,024 training sentences")
    return parser


if __name__ == "__main__":  # the flags are checked before anything heavy is imported
    cli.parse(build_parser())

from companion import errors, lifecycle, records  # isort: skip
import numpy as np

from sentiment import text_data

DRY_RUN_SIZES = (1024, 256, 256)


def sklearn_parts():
    try:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.naive_bayes import MultinomialNB
    except ImportError:
        raise errors.UserError("text_baseline.py needs scikit-learn: pip install -r "
                               "requirements.txt") from None
    return CountVectorizer, LogisticRegression, MultinomialNB


def log_count_ratio(features, labels, alpha=1.0):
    """NBSVM's r: log of (positive counts / their sum) over (negative counts / their sum),
    each count smoothed by alpha, from binary features."""
    positive = alpha + np.asarray(features[labels == 1].sum(axis=0)).ravel()
    negative = alpha + np.asarray(features[labels == 0].sum(axis=0)).ravel()
    return np.log((positive / positive.sum()) / (negative / negative.sum()))


def classifier(kind, value, seed):
    _, LogisticRegression, MultinomialNB = sklearn_parts()
    if kind == "nb":
        return MultinomialNB(alpha=value)
    return LogisticRegression(C=value, solver="liblinear", random_state=seed, max_iter=1000)


def fit_and_score(kind, seed, splits):
    """(test accuracy, validation accuracy, chosen value): the grid's best on validation."""
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = splits
    if kind == "nbsvm":
        ratio = log_count_ratio(x_train, y_train)
        x_train, x_val, x_test = (x.multiply(ratio).tocsr() for x in (x_train, x_val, x_test))
    grid = ALPHA_GRID if kind == "nb" else C_GRID
    scored = []
    for value in grid:
        model = classifier(kind, value, seed).fit(x_train, y_train)
        scored.append((model.score(x_val, y_val), value, model))
    validation, value, model = max(scored, key=lambda item: item[0])  # first best on a tie
    return model.score(x_test, y_test), validation, value


def main(argv=None):
    args = cli.parse(build_parser(), argv)
    CountVectorizer, _, _ = sklearn_parts()
    texts, labels = text_data.load_sentences()
    parts = text_data.stratified_split(labels)
    if args.dry_run:
        parts = [part[:size] for part, size in zip(parts, DRY_RUN_SIZES)]
    # words as lstm_gru_text.py's tokenizer sees them: lower case, runs of letters and digits
    vectorizer = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b",
                                 ngram_range=(1, args.ngrams), binary=True)
    vectorizer.fit(texts[parts[0]])
    splits = [(vectorizer.transform(texts[part]), labels[part]) for part in parts]
    print(f"Data: Rotten Tomatoes sentences, {' / '.join(str(len(p)) for p in parts)} train / "
          f"validation / test; {len(vectorizer.vocabulary_):,} features (1- to "
          f"{args.ngrams}-grams from the training sentences)")
    kinds = list(MODELS) if args.model == "all" else [args.model]
    results = {}
    for seed in args.seeds or [args.seed]:
        for kind in kinds:
            run = records.Run(__file__, argparse.Namespace(**{**vars(args), "model": kind,
                                                              "seed": seed}))
            test, validation, value = fit_and_score(kind, seed, splits)
            print(f"{kind} (chosen {'alpha' if kind == 'nb' else 'C'} = {value}): validation "
                  f"{100 * validation:.1f}%, test accuracy: {100 * test:.1f}%")
            run.write({}, data={"dataset": "rotten-tomatoes",
                                "train_samples": len(parts[0]),
                                "validation_samples": len(parts[1]),
                                "test_samples": len(parts[2]),
                                "split_seed": text_data.SPLIT_SEED,
                                "features": len(vectorizer.vocabulary_)},
                      status="finished", chosen_regularisation=value,
                      regularisation_grid=list(ALPHA_GRID if kind == "nb" else C_GRID),
                      validation_accuracy=float(validation), test_accuracy=float(test))
            results.setdefault(kind, []).append(100 * test)
    return results


if __name__ == "__main__":
    lifecycle.run_main(main)
