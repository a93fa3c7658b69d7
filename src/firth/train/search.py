"""Hyper-parameter search under a wall-clock budget, scored on validation data only.

Optuna does the searching. Its TPE sampler proposes the next settings from
the scores of the trials so far (`multivariate` and `group`: it models the
conditional spaces of several model families jointly), its successive-halving
pruner stops a trial whose validation score after k epochs falls below most
of those that reached k epochs, and its journal file records every trial as it
happens, so a killed search resumes where it stopped. We chose it over code of
our own because each of those three is a library's worth of care (TPE beats
the random and grid search we would write on the same number of trials), it is
well kept, and its state is a plain append-only file (no pickle, no database
server); scikit-learn's HalvingRandomSearchCV has no time budget and halves
over training samples, not epochs.

The budget covers the whole job: the search stops starting trials once the
time left would not also pay for refitting the best trial's settings on all
the data (its seconds per step times its best step count times
`refit_factor`): a running trial stops at a validation when one more step
and then a refit as long as its own or the best trial's would not fit, and
no trial starts without room for the longest step seen so far. A trial's score is
its best validation score (the objective reports one per epoch, or per fold).

    search = BudgetedSearch(space, budget_s=300, seed=0, out_dir="runs/tune")
    best = search.run(objective)   # objective(params, report) -> score; report(step, score) after each epoch
    search.records                  # every trial: params, state, score, seconds
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from firth.errors import FirthError
from firth.io.atomic import atomic_path

TRIALS = "trials.jsonl"
JOURNAL = "study.journal"  # Optuna's record of the study: a resumed search reads it back
STARTUP_TRIALS = 6  # random trials before TPE models the scores (Optuna's default, 10, is most of a short budget)
MARGIN = 0.05  # of the budget, kept for what the estimates miss (saving, the last validation)


class TrialRecord(NamedTuple):
    """One trial, as trials.jsonl holds it."""

    number: int
    state: str  # "complete", "pruned" (by the pruner, or by the deadline: then attrs["stopped_by"] says so)
    #             or "failed" (a FirthError, in `error`)
    score: float | None  # the best validation score it reported
    seconds: float
    params: dict[str, Any]
    attrs: dict[str, Any]  # what the objective recorded beside the score (the best epoch, say)


class Report:
    """Handed to the objective: `report(step, score)` after each validation (an epoch, or a fold); it raises
    optuna.TrialPruned when the pruner says the trial falls behind, or when the time left would no longer
    pay for refitting this trial's settings on all the data (see BudgetedSearch.past_deadline)."""

    def __init__(self, trial, search: "BudgetedSearch"):
        self.trial, self.search = trial, search
        self.started, self.best, self.best_step = time.perf_counter(), -math.inf, 0

    def __call__(self, step: int, score: float) -> None:
        import optuna

        if score > self.best:
            self.best, self.best_step = score, step
        seconds = time.perf_counter() - self.started
        self.note(best_score=self.best, best_step=self.best_step, step_seconds=seconds / max(step, 1))
        self.trial.report(score, step)
        # going on means one more step, after which the best may be that step: a refit that long must still fit
        step_s = self.trial.user_attrs["step_seconds"]
        refit_s = step_s * (step + 1) * self.search.refit_factor
        if self.trial.should_prune():
            raise optuna.TrialPruned()
        if self.search.past_deadline(step_s, refit_s):
            self.note(stopped_by="deadline")  # not behind the others: still a candidate for the best
            raise optuna.TrialPruned()

    def note(self, **attrs) -> None:
        """Keep facts about the trial beside its score."""
        for key, value in attrs.items():
            self.trial.set_user_attr(key, value)


class BudgetedSearch:
    """A seeded Optuna study over `space` (a function from an optuna.Trial to a settings dict), maximizing.

    `budget_s` (seconds, None: no limit) and `n_trials` (None: no limit) bound it; one of them must be given.
    A new study first tries the settings in `start_with` (dicts of the space's parameters), in order.
    With `out_dir`, trials.jsonl and the journal go there and `resume` continues that study; `on_trial` is
    told each finished trial.
    """

    def __init__(self, space: Callable[[Any], dict], budget_s: float | None = 300.0, n_trials: int | None = None,
                 seed: int = 0, out_dir: str | Path | None = None, resume: bool = False, refit_factor: float = 1.0,
                 on_trial: Callable[[TrialRecord], None] | None = None, start_with: Sequence[dict] = ()):
        if budget_s is None and n_trials is None:
            raise FirthError("a search needs a time budget or a number of trials.")
        if budget_s is not None and not budget_s > 0:
            raise FirthError(f"the budget must be a positive number of seconds, got {budget_s}.")
        if n_trials is not None and n_trials < 1:
            raise FirthError(f"n_trials must be at least 1, got {n_trials}.")
        self.space, self.budget_s, self.n_trials, self.seed = space, budget_s, n_trials, seed
        self.out_dir, self.resume, self.refit_factor = (Path(out_dir) if out_dir else None), resume, refit_factor
        self.on_trial, self.start_with = on_trial, list(start_with)
        self.records: list[TrialRecord] = []
        self.started = time.perf_counter()  # the budget counts from here: create the search when the job starts

    # ---- the study ----------------------------------------------------------------------

    def run(self, objective: Callable[[dict, Report], float]) -> TrialRecord:
        """Run trials until the budget or n_trials is spent; the best trial (see `_best_or_none`)."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own lines and table report the trials
        study = self._study()
        if not study.trials:  # a resumed study has them already
            for params in self.start_with:
                study.enqueue_trial(params)
        done = len([t for t in study.trials if t.state.is_finished()])
        remaining = None if self.n_trials is None else max(self.n_trials - done, 0)

        def run_trial(trial) -> float:
            start = time.perf_counter()
            params = self.space(trial)
            report = Report(trial, self)
            try:
                score = objective(params, report)
            except FirthError as e:  # settings this data cannot take: recorded, and the search goes on
                trial.set_user_attr("error", str(e))
                raise
            finally:
                trial.set_user_attr("seconds", time.perf_counter() - start)
            return score

        def after_trial(study, trial) -> None:
            self.records = [_record(t) for t in study.trials if t.state.is_finished()]
            self._write_records()
            if self.on_trial is not None:
                self.on_trial(_record(trial))
            if self.past_deadline(self.longest_step_s()):  # another trial needs at least a step's time
                study.stop()

        if remaining != 0 and not self.past_deadline():
            study.optimize(run_trial, n_trials=remaining, catch=(FirthError,), callbacks=[after_trial])
        self.records = [_record(t) for t in study.trials if t.state.is_finished()]
        self._write_records()
        return self.best()

    def _study(self):
        import optuna

        with warnings.catch_warnings():  # `group` is marked experimental; it is what conditional spaces need
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=self.seed, multivariate=True, group=True,
                                                 n_startup_trials=STARTUP_TRIALS)
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
        storage = None
        if self.out_dir is not None:
            from optuna.storages import JournalStorage
            from optuna.storages.journal import JournalFileBackend

            self.out_dir.mkdir(parents=True, exist_ok=True)
            journal = self.out_dir / JOURNAL
            if journal.exists() and not self.resume:
                raise FirthError(f"{self.out_dir}: holds an earlier search ({JOURNAL}); pass --resume to continue "
                                 "it or --overwrite to start over.")
            if journal.exists():
                _drop_partial_line(journal)
            storage = JournalStorage(JournalFileBackend(str(journal)))
        return optuna.create_study(study_name="firth", storage=storage, sampler=sampler, pruner=pruner,
                                   direction="maximize", load_if_exists=True)

    # ---- time -----------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def reserve_s(self) -> float:
        """The time kept for the final refit: what refitting the best trial so far would cost."""
        best = self._best_or_none()
        if best is None:
            return 0.0
        return best.attrs.get("step_seconds", 0.0) * best.attrs.get("best_step", 0) * self.refit_factor

    def past_deadline(self, ahead_s: float = 0.0, running_refit_s: float = 0.0) -> bool:
        """True once the time left would not pay for `ahead_s` more seconds of search and then the final
        refit: of the best trial so far, or of the running trial's settings (`running_refit_s`), whichever
        costs more."""
        if self.budget_s is None:
            return False
        return self.elapsed() + ahead_s + max(self.reserve_s(), running_refit_s) >= (1 - MARGIN) * self.budget_s

    def longest_step_s(self) -> float:
        """The longest step (an epoch, or a fold) of the trials so far: what starting another trial risks."""
        return max((r.attrs.get("step_seconds", 0.0) for r in self.records), default=0.0)

    # ---- results ----------------------------------------------------------------------------

    def best(self) -> TrialRecord:
        best = self._best_or_none()
        if best is None:
            errors = {r.attrs.get("error") for r in self.records if r.attrs.get("error")}
            raise FirthError("no trial finished within the budget" + (f" ({sorted(errors)[0]})" if errors else "")
                             + "; give it more time (--budget) or a smaller search (--features, --model).")
        return best

    def _best_or_none(self) -> TrialRecord | None:
        """The best trial that completed or that the deadline stopped (its best validation score is as good a
        score: the refit trains for its best epoch count); if there is none, the best pruned one."""
        finished = [r for r in self.records if r.state == "complete" or r.attrs.get("stopped_by") == "deadline"]
        candidates = [r for r in finished if r.score is not None] or [r for r in self.records if r.score is not None]
        return max(candidates, key=lambda r: (r.score, -r.number)) if candidates else None

    def _write_records(self) -> None:
        if self.out_dir is None:
            return
        with atomic_path(self.out_dir / TRIALS) as tmp:
            tmp.write_text("".join(json.dumps(r._asdict()) + "\n" for r in self.records), encoding="utf-8")


def _drop_partial_line(journal: Path) -> None:
    """Cut a last line that a killed search left half-written: Optuna skips it when reading, but would
    append after it, and the merged line would stop every later read."""
    data = journal.read_bytes()
    if data and not data.endswith(b"\n"):
        os.truncate(journal, data.rfind(b"\n") + 1)


def _record(trial) -> TrialRecord:
    """A finished Optuna trial as a TrialRecord."""
    import optuna

    state = {optuna.trial.TrialState.COMPLETE: "complete", optuna.trial.TrialState.PRUNED: "pruned"}.get(
        trial.state, "failed")
    attrs = dict(trial.user_attrs)
    score = trial.value if state == "complete" else attrs.get("best_score")
    score = None if score is None or not math.isfinite(score) else float(score)
    return TrialRecord(trial.number, state, score, float(attrs.pop("seconds", 0.0)), dict(trial.params),
                       {k: v for k, v in attrs.items() if k != "best_score"})
