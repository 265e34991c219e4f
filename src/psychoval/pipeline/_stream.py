"""validate() of a :class:`ResponseScan`: one streaming pass, then the in-memory steps.

The pass reads the source batch by batch (bounded memory) and accumulates

- the exact data-quality counts (:class:`psychoval.stats.quality._stream.QualityCounter`);
- per competency, the mergeable moments of the scored items
  (:class:`psychoval.stats.core._suffstats.Moments`), from which Cronbach's alpha and its
  Feldt interval are exact on every row;
- a uniform random sample of at most ``sample_rows`` rows without replacement: each row gets
  a pseudo-random key from (seed, row number) alone (SplitMix64), and the rows with the
  smallest keys are kept (bottom-k sampling), so the sample does not depend on the batch size.

The other steps (item analysis, DIF, the CFAs and omega with bootstrap intervals, IRT item
fit, invariance, parallel analysis, careless-responding statistics) need rows: they run on
the sample as :func:`validate` runs on a table in memory. When every row fits in the sample
the sample is the whole source in file order and the report is the in-memory report.
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from psychoval.exceptions import DataError, PsychovalError, SpecificationError, collect_warnings

__all__ = ["validate_scan", "bottom_k_keys"]

def bottom_k_keys(rows: np.ndarray, seed: int) -> np.ndarray:
    """SplitMix64 of (seed, row number): a uniform 64-bit key per row, a function of the row
    number and the seed only."""
    from psychoval.stats.core._rowhash import splitmix64

    return splitmix64(rows, seed)


class _Sample:
    """Bottom-k sample of the rows of a scan: Arrow rows kept with their row numbers."""

    def __init__(self, size: int, seed: int):
        self.size = size
        self.seed = seed
        self.parts: list[Any] = []
        self.keys = np.zeros(0, dtype=np.uint64)
        self.rows = np.zeros(0, dtype=np.int64)
        self.cut: np.uint64 | None = None  # keys at or above it are never kept
        self.seen = 0

    def offer(self, batch: Any, start: int) -> None:
        n = batch.num_rows
        rows = np.arange(start, start + n, dtype=np.int64)
        keys = bottom_k_keys(rows, self.seed)
        take = np.flatnonzero(keys < self.cut) if self.cut is not None else np.arange(n)
        self.seen += n
        if not take.size:
            return
        self.parts.append(_plain(batch.take(take)))
        self.keys = np.concatenate([self.keys, keys[take]])
        self.rows = np.concatenate([self.rows, rows[take]])
        if self.keys.size > 2 * self.size:
            self._compact()

    def _compact(self) -> None:
        import pyarrow as pa

        if self.keys.size <= self.size:
            return
        keep = np.argpartition(self.keys, self.size - 1)[:self.size]
        keep.sort()
        table = pa.concat_tables([pa.Table.from_batches([b]) if not isinstance(b, pa.Table)
                                  else b for b in self.parts]).take(keep)
        self.parts = [table.combine_chunks()]
        self.keys, self.rows = self.keys[keep], self.rows[keep]
        self.cut = self.keys.max()

    def table(self, scan: Any) -> Any:
        """The sample as a ResponseTable (rows in file order, numbered as in the file)."""
        import pyarrow as pa

        self._compact()
        order = np.argsort(self.rows, kind="stable")
        arrow = pa.concat_tables([pa.Table.from_batches([b]) if not isinstance(b, pa.Table)
                                  else b for b in self.parts]).take(order)
        return scan.to_table(arrow, rows=self.rows[order])


def _plain(batch: Any) -> Any:
    """A batch with dictionary-encoded (text) columns decoded, so that batches with other
    dictionaries concatenate."""
    import pyarrow as pa

    if not any(pa.types.is_dictionary(f.type) for f in batch.schema):
        return batch
    cols = [c.dictionary_decode() if pa.types.is_dictionary(c.type) else c
            for c in batch.columns]
    return pa.RecordBatch.from_arrays(cols, names=batch.schema.names)


def _file_sha256(source: Any) -> str | None:
    """SHA-256 of a file (or of a folder's Parquet files in name order), read in blocks."""
    if not isinstance(source, (str, Path)):
        return None
    path = Path(source)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            while block := fh.read(1 << 23):
                h.update(block)
    return h.hexdigest()


def validate_scan(scan: Any, framework: Any, *, sample_rows: int, sample_seed: int,
                  run: Any, hash_file: bool = True) -> Any:
    """:func:`psychoval.validate` of a scan (see the module docstring); ``run`` runs the
    in-memory validation of a table with the caller's options."""
    from psychoval.framework import Framework, read_framework
    from psychoval.stats.quality._coded import Coder, PatternCounts, scored_values
    from psychoval.stats.quality._stream import QualityCounter, framework_scan

    if isinstance(sample_rows, bool) or not isinstance(sample_rows, (int, np.integer)) \
            or sample_rows < 100:
        raise SpecificationError(f"sample_rows={sample_rows!r} must be an integer of at "
                                 "least 100")
    if isinstance(sample_seed, bool) or not isinstance(sample_seed, (int, np.integer)):
        raise SpecificationError(f"sample_seed={sample_seed!r} must be an integer")
    fw = framework if isinstance(framework, Framework) else read_framework(framework)
    scan = framework_scan(scan, fw)
    _warm_up()
    counter = QualityCounter(fw, source=scan.label, hash_ids=scan.id_column is not None)
    sha = None
    if hash_file and isinstance(scan.source, (str, Path)):  # on another thread (hashlib
        from concurrent.futures import ThreadPoolExecutor  # releases the GIL), beside the pass

        pool = ThreadPoolExecutor(max_workers=1)
        sha = pool.submit(_file_sha256, scan.source)
        pool.shutdown(wait=False)
    sample = _Sample(int(sample_rows), int(sample_seed))
    comps = [(c.id, list(c.item_ids)) for c in fw.competencies]
    moments: dict[str, Any] = {}
    patterns: dict[str, Any] = {}
    responses: dict[str, Any] = {}  # competency -> ResponsePatterns of its scored items
    coder = Coder(fw, scan)
    counts = {cid: PatternCounts([coder.position[i] for i in items],
                                 [coder.levels[coder.position[i]] for i in items])
              for cid, items in comps} if coder.usable else {}
    # a competency whose response vectors are too many to count densely (many items) is
    # summed batch by batch from its codes instead: its distinct vectors would be about
    # as many as its rows
    direct = [(cid, items) for cid, items in comps if cid in counts and not counts[cid].dense]
    for cid, _ in direct:
        del counts[cid]
    idc = scan.id_column
    start = n_batches = n_short = 0
    t0 = time.perf_counter()
    for batch in scan.batches():
        n = batch.num_rows
        if not n_batches:  # the columns are checked against the framework once (one row)
            counter.start(scan.to_table(batch.slice(0, 1), rows=pd.RangeIndex(0, 1)))
        codes = coder.codes(batch)
        hashes = _id_hashes(batch, idc) if codes is not None and idc is not None else None
        if codes is not None and (hashes is not None or idc is None):
            counter.update_coded(codes, hashes)
            for pc in counts.values():
                pc.add(codes)
            for cid, items in direct:
                rows = codes[[coder.position[i] for i in items]].T
                _accumulate(moments, patterns, responses, cid, items,
                            scored_values(fw, items, rows))
                _count_columns(counter, fw, coder, items, rows, None)
            n_short += 1
        else:
            table = scan.to_table(batch, rows=pd.RangeIndex(start, start + n))
            counter.update(table)
            scores = fw.score(table).scores
            for cid, items in comps:
                x = scores[items].to_numpy(dtype="float64")
                _accumulate(moments, patterns, responses, cid, items, x)
            del table, scores
        sample.offer(batch, start)
        start += n
        n_batches += 1
    for cid, items in comps:  # the short path's counts, as moments and column counts
        if cid not in counts:
            continue
        codes, freq = counts[cid].table()
        if not freq.size:
            continue
        _accumulate(moments, patterns, responses, cid, items, scored_values(fw, items, codes),
                    freq)
        _count_columns(counter, fw, coder, items, codes, freq)
    if start == 0:
        raise DataError(f"{scan.label}: the source has no rows (no respondents)")
    quality = counter.result(scan)
    pass_s = time.perf_counter() - t0
    short = (f" ({n_short} of them took the short path: whole-number answers counted as "
             "response vectors)" if n_short else
             f" (every batch read by the cell rules: {coder.reason})" if coder.reason else "")
    exact_all = start <= sample.size
    sampled = sample.table(scan)
    # alpha on every row, from the merged moments, is the run's alpha (table and verdicts)
    # and each competency's CFA by WLSMV comes from its response patterns on every row
    tables = {c: r for c, r in responses.items() if r is not None}
    report = run(sampled, fw) if exact_all else run(sampled, fw, moments, tables)
    if exact_all:
        note = (f"Streamed: {start:,} rows in {n_batches} batches of at most "
                f"{scan.batch_size:,}{short}; every row fits in the sample (sample_rows="
                f"{sample.size:,}), so every statistic is computed on all rows, as in memory.")
        return _with(report, notes=(note,), scan=scan, quality=quality, moments=moments,
                     sha=sha, pass_s=pass_s)
    level = float(report.options["confidence_level"])
    exact_rows = []
    warned: list[str] = []
    for cid, _ in comps:
        a = report.results.get(f"alpha:{cid}")
        if a is not None:
            exact_rows.append({"competency": cid, "alpha_all_rows": a.raw_alpha,
                               "lower": a.ci_lower, "upper": a.ci_upper,
                               "n": int(moments[cid].n)})
    exact = pd.DataFrame(exact_rows)
    cfa_rows = _cfa_all_rows(patterns, warned)
    on_all = [cid for cid, _ in comps
              if (f := report.results.get(f"cfa:{cid}")) is not None
              and cid in tables and getattr(f, "estimator", "") == "WLSMV"]
    wlsmv_text = ("the judged one-factor CFA by WLSMV of " + ", ".join(on_all) + " (from "
                  "merged response patterns: fit, categorical omega with its delta-method "
                  "interval, ordinal alpha and standardized loadings in the competencies, fit "
                  "and loadings tables and their verdicts) " if on_all else "")
    shown = "; ".join(f"{r['competency']} {r['alpha_all_rows']:.4f} [{r['lower']:.4f}, "
                      f"{r['upper']:.4f}]" for r in exact_rows)
    notes = (
        f"Streamed: {start:,} rows in {n_batches} batches of at most {scan.batch_size:,}"
        f"{short}. "
        "Exact on every row: the data-quality counts (rows, missing, out-of-range and "
        "invalid codes, all-missing rows, duplicate ids, smallest pairwise n), each "
        "competency's Cronbach's alpha with its Feldt interval (from merged moments: the "
        "competencies table, the alpha verdicts and the steps that use alpha), "
        f"{wlsmv_text}and its one-factor CFA by ML with FIML (from merged missingness-pattern "
        "moments: omega, CFI, RMSEA, SRMR; information beside the judged fit, whose "
        "estimator may differ); listed below. From a uniform random sample of "
        f"{sample.size:,} rows (bottom-k on SplitMix64 keys of the row number, "
        f"sample_seed={sample_seed}): every other table - item analysis, DIF, the other "
        "CFAs, omega and their intervals, IRT item fit, invariance, parallel analysis, the "
        "other verdicts and multivariate outliers; n_respondents and data_quality are the "
        "source's.",
        f"Alpha on all {start:,} rows (pairwise, Feldt {level:.0%} interval; judged): "
        f"{shown}.",
        *([_cfa_note(cfa_rows, start)] if len(cfa_rows) else []),
        *warned,
    )
    dq = dict(report.data_quality)
    dq.update({"n_respondents": quality.n_respondents, "n_columns": quality.n_columns,
               "missing_fraction": quality.missing_fraction,
               "n_out_of_range": quality.n_out_of_range,
               "n_invalid_codes": quality.n_invalid_codes,
               "n_all_missing_rows": quality.n_all_missing_rows,
               "n_duplicate_ids": quality.n_duplicate_ids,
               "min_pairwise_n": quality.min_pairwise_n, "n_complete": None,
               "problems": list(quality.problems)})
    return _with(report, notes=notes, scan=scan, quality=quality, moments=moments,
                 data_quality=dq, n_respondents=quality.n_respondents, exact=exact,
                 cfa_rows=cfa_rows, sha=sha, pass_s=pass_s)


MAX_PATTERNS = 1 << 20  # response patterns kept per competency (an all-row WLSMV fit)


def _count_columns(counter: Any, fw: Any, coder: Any, items: list[str], codes: np.ndarray,
                   freq: np.ndarray | None) -> None:
    """Each item's answer counts from code vectors (rows, items) seen ``freq`` times each
    (None: once): by value, or by option for a multiple-choice item (scored 0/1 by its
    key)."""
    for j, iid in enumerate(items):
        item = fw.item(iid)
        per = np.bincount(codes[:, j].astype(np.intp), weights=freq,
                          minlength=coder.levels[coder.position[iid]] + 1).astype(np.int64)
        if item.type == "multiple_choice":
            counter.add_counted(iid, np.array([float(o == item.answer_key)
                                               for o in item.options]), per[1:], per[0],
                                labels=item.options)
        else:
            counter.add_counted(iid, float(item.min) + np.arange(per.size - 1), per[1:],
                                per[0])


def _warm_up() -> None:
    """Import the statistics the steps after the pass need on a second thread, while the
    pass reads (the imports are about two seconds of the run; most of the pass runs in
    Arrow and numpy with the GIL released)."""
    import importlib
    import sys
    import threading

    if "psychoval.pipeline._decisions" not in sys.modules:
        threading.Thread(target=lambda: [importlib.import_module(m) for m in (
            "psychoval.stats", "psychoval.pipeline._decisions", "psychoval.report")],
            name="psychoval-warm-up", daemon=True).start()


def _accumulate(moments: dict[str, Any], patterns: dict[str, Any], responses: dict[str, Any],
                cid: str, items: list[str], x: np.ndarray,
                weights: np.ndarray | None = None) -> None:
    """Add rows ``x`` of a competency's scored items (``weights``: rows per row) to its
    moments and, with three items or more (a one-factor CFA is identified), its pattern
    moments and its table of response patterns (None once an item has more values than an
    ordinal item can have)."""
    from psychoval.stats.core._suffstats import Moments, PatternMoments
    from psychoval.stats.core._tables import ResponsePatterns

    prev = moments.get(cid)
    m = Moments.from_array(x, columns=items, weights=weights,
                           shift=None if prev is None else prev.shift)
    moments[cid] = m if prev is None else prev + m
    if len(items) >= 3:
        pp = patterns.get(cid)
        pm = PatternMoments.from_array(x, columns=items, weights=weights,
                                       shift=None if pp is None else pp.shift)
        patterns[cid] = pm if pp is None else pp + pm
        if responses.get(cid, 0) is not None:
            try:
                rp = ResponsePatterns.from_array(x, columns=items, weights=weights)
            except DataError:  # continuous scores: no pattern table (WLSMV is not used)
                responses[cid] = None
            else:
                rp = rp + responses[cid] if cid in responses else rp
                # patterns that do not compress are not kept (WLSMV then uses the sample)
                responses[cid] = rp if rp.n_patterns <= MAX_PATTERNS else None


def _id_hashes(batch: Any, id_column: str) -> np.ndarray | None:
    """The 64-bit hashes of a batch's ids as the long path makes them
    (:func:`psychoval.stats.quality._stream.id_hashes` of the ids read_responses keeps: whole
    numbers as themselves, text stripped of surrounding spaces), or None when an id is missing
    or of another type (the long path then names the row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from psychoval.stats.quality._stream import id_hashes

    if id_column not in batch.schema.names:
        return None
    col = batch.column(batch.schema.names.index(id_column))
    if col.null_count:
        return None
    if pa.types.is_integer(col.type):
        return id_hashes(col.to_numpy())
    if pa.types.is_dictionary(col.type):
        text = pa.types.is_string(col.type.value_type) or \
            pa.types.is_large_string(col.type.value_type)
    else:
        text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
        col = pc.dictionary_encode(col) if text else col
    if not text:
        return None
    kept = np.array([c.strip() for c in col.dictionary.to_pylist()], dtype=object)
    idx = col.indices.to_numpy(zero_copy_only=False)
    if (kept[np.unique(idx)] == "").any():
        return None
    return id_hashes(kept)[idx]


def _cfa_all_rows(patterns: dict[str, Any], warned: list[str]) -> pd.DataFrame:
    """Each competency's one-factor CFA by ML with FIML from its merged pattern moments."""
    from psychoval.stats import cfa

    rows = []
    for cid, p in patterns.items():
        model = f"{cid} =~ " + " + ".join(p.columns)
        try:
            with collect_warnings() as caught:
                fit = cfa(model, p, missing="fiml")
                omega = float(fit.composite_reliability().iloc[0])
        except PsychovalError as exc:
            warned.append(f"CFA of {cid} on all rows not estimated: {exc}")
            continue
        warned += [f"CFA of {cid} on all rows: {w.message}" for w in caught]
        fm = fit.fit_measures if p.k >= 4 else {}  # 3 items: just-identified, no fit
        rows.append({"competency": cid, "n": int(fit.n_obs), "omega": omega,
                     "cfi": fm.get("cfi", math.nan), "rmsea": fm.get("rmsea", math.nan),
                     "srmr": fm.get("srmr", math.nan), "converged": bool(fit.converged)})
    return pd.DataFrame(rows, columns=["competency", "n", "omega", "cfi", "rmsea", "srmr",
                                       "converged"])


def _cfa_note(rows: pd.DataFrame, n: int) -> str:
    shown = "; ".join(
        f"{r.competency} omega {r.omega:.4f}" + (
            "" if math.isnan(r.cfi) else f", CFI {r.cfi:.3f}, RMSEA {r.rmsea:.3f}, "
            f"SRMR {r.srmr:.3f}") for r in rows.itertuples())
    return (f"One-factor CFA on all {n:,} rows (ML with FIML, linear; 3-item models are "
            f"just-identified: omega only): {shown}.")


def _with(report: Any, *, notes: tuple[str, ...], scan: Any, quality: Any,
          moments: dict[str, Any], sha: Any, pass_s: float, exact: Any = None,
          cfa_rows: Any = None, **fields: Any) -> Any:
    """The report with the streaming notes, provenance and results added."""
    import dataclasses

    prov = dict(report.provenance)
    t0 = time.perf_counter()
    prov["input"] = f"{scan.label} (scanned)"
    sha = sha.result() if sha is not None else None  # hashed beside the pass
    if sha is not None:
        prov["input_sha256"] = sha
    timings = dict(report.timings)
    timings["stream_pass"] = pass_s
    timings["input_hash"] = time.perf_counter() - t0
    timings["total"] = timings.get("total", 0.0) + pass_s + timings["input_hash"]
    results = dict(report.results)
    results.update({"scan_quality": quality, "moments": moments})
    if exact is not None:
        results["alpha_all_rows"] = exact
    if cfa_rows is not None:
        results["cfa_all_rows"] = cfa_rows
    return dataclasses.replace(report, notes=tuple(notes) + tuple(report.notes),
                               provenance=prov, results=results, timings=timings,
                               **fields)
