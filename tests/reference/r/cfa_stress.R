# lavaan 0.6.14 references for the seeded CFA convergence stress suite.
# First write the CSVs (not committed), then run from tests/reference:
#   ../../.venv/bin/python stress/make_stress.py --csv-dir /tmp/cfa_stress_csv
#   Rscript r/cfa_stress.R /tmp/cfa_stress_csv          -> ref_extra/cfa_stress.json
# Per problem: cfa(model, data) with lavaan's defaults (missing = "ml" where the problem has
# missing cells, listwise = lavaan's default otherwise); where it converged, a tight refit
# cfa(..., start = fit, control = list(rel.tol = 1e-14, iter.max = 10000)) whose chi-square
# (chisq_tight) the tests compare with (lavaan's default nlminb stops at rel.tol 1e-10).
# chisq_tight can be below chisq by more than rounding where the default fit stopped on a
# ridge (e.g. a bifactor group factor with a near-zero variance).
# elapsed: system.time(...)["elapsed"] of the default fit (seconds; single R process).
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
csvdir <- if (length(args) >= 1) args[1] else "/tmp/cfa_stress_csv"
only <- if (length(args) >= 2) strsplit(args[2], ",")[[1]] else NULL
problems <- fromJSON("stress/cfa_stress_models.json", simplifyVector = FALSE)$problems

# run expr, collecting warning texts (muffled) and an error text instead of stopping
capture <- function(expr) {
  warns <- character(0)
  t <- system.time(value <- withCallingHandlers(
    tryCatch(expr, error = function(e) e),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }))
  err <- if (inherits(value, "error")) conditionMessage(value) else NULL
  list(value = if (is.null(err)) value else NULL, warnings = warns, error = err,
       elapsed = unname(t["elapsed"]))
}

num <- function(x) if (is.null(x) || length(x) == 0) NULL else unname(as.numeric(x))

measures <- function(fit, suffix = "") {
  conv <- lavInspect(fit, "converged")
  out <- list(converged = conv, iterations = lavInspect(fit, "iterations"),
              npar = lavInspect(fit, "npar"),
              # nlminb's objective at the end (lavaan's fmin, half the ML discrepancy; for
              # FIML the casewise -logL / N plus a constant): available even when not converged
              fx = num(fit@optim$fx), ntotal = lavInspect(fit, "ntotal"),
              max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))))
  fm <- suppressWarnings(tryCatch(
    fitMeasures(fit, c("chisq", "df", "fmin", "logl", "unrestricted.logl")),
    error = function(e) NULL))
  if (!is.null(fm)) {
    out$chisq <- num(fm["chisq"]); out$df <- num(fm["df"]); out$fmin <- num(fm["fmin"])
    out$logl <- num(fm["logl"]); out$unrestricted_logl <- num(fm["unrestricted.logl"])
  }
  if (suffix != "") names(out) <- paste0(names(out), suffix)
  out
}

results <- list()
for (p in problems) {
  if (!is.null(only) && !(p$id %in% only)) next
  dat <- utils::read.csv(file.path(csvdir, paste0(p$id, ".csv")))
  miss <- if (p$missing == "fiml") "ml" else "default"
  r <- list(id = p$id, family = p$family, missing = miss)
  a <- capture(cfa(p$model, data = dat, missing = miss))
  r$elapsed <- a$elapsed
  r$warnings <- I(a$warnings)
  if (!is.null(a$error)) {
    r$converged <- FALSE
    r$error <- a$error
  } else {
    fit <- a$value
    r <- c(r, measures(fit))
    if (isTRUE(r$converged)) {
      # one attempt only (lavaan's later attempts restart from start = "simple"), and forced
      # "converged" so that fitMeasures() is computed: at rel.tol 1e-14 nlminb usually ends
      # with "false convergence" at the floating-point floor; its own verdict is in
      # warnings_tight ("the optimizer warns that a solution has NOT been found!")
      b <- capture(cfa(p$model, data = dat, missing = miss, start = fit,
                       control = list(rel.tol = 1e-14, iter.max = 10000),
                       optim.attempts = 1L, optim.force.converged = TRUE))
      r$elapsed_tight <- b$elapsed
      r$warnings_tight <- I(b$warnings)
      if (!is.null(b$error)) {
        r$error_tight <- b$error
      } else {
        tight <- measures(b$value, "_tight")
        tight$converged_tight <- NULL  # forced TRUE; nlminb's verdict is below
        tight$nlminb_converged_tight <- !any(grepl("has NOT been found", b$warnings))
        r <- c(r, tight)
      }
    }
  }
  results[[length(results) + 1]] <- r
  cat(sprintf("%s %-13s conv=%s chisq=%s tight=%s %.2fs\n", p$id, p$family, r$converged,
              format(r$chisq, digits = 10), format(r$chisq_tight, digits = 10), r$elapsed))
}

out <- list(description = paste("lavaan::cfa(model, data, missing = 'ml' or 'default') on the",
                                "CFA stress suite (stress/make_stress.py); where it converged,",
                                "a tight refit cfa(..., start = fit, control = list(rel.tol =",
                                "1e-14, iter.max = 10000), optim.attempts = 1L,",
                                "optim.force.converged = TRUE) gives the *_tight values;",
                                "elapsed = system.time() of the default fit in seconds"),
            generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                            platform = R.version$platform,
                            blas = La_library()),
            n_problems = length(results),
            results = results)
target <- if (is.null(only)) "ref_extra/cfa_stress.json" else "/tmp/cfa_stress_partial.json"
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null",
                  pretty = FALSE), target)
