# R references for issue 10 (pv.validate): the statistics of the validation report of the
# sample assessment, on the responses scored by the framework (ref_extra/sample_scored.csv,
# written by psychoval's Framework.score: answer keys, labels, reverse keys, rater means).
# Run from tests/reference/:   Rscript r/validate_extra.R  ->  ref_extra/validate_extra.json
# R 4.2, psych 2.2.9, lavaan 0.6.14, semTools 0.5.6. Full precision (digits = NA).
suppressPackageStartupMessages({
  library(psych); library(lavaan); library(semTools); library(jsonlite)
})
x <- utils::read.csv("ref_extra/sample_scored.csv", row.names = 1)
comps <- list(
  concepts = c("CON1", "CON2", "CON3", "CON4", "CON5"),
  data = c("DAT1", "DAT2", "DAT3", "DAT4"), ethics = c("ETH1", "ETH2", "ETH3", "ETH4"),
  prompting = c("PRM1", "PRM2", "PRM3", "PRM4", "PRM5"),
  tools = c("TOO1", "TOO2", "TOO3", "TOO4"), evaluation = c("EVA1", "EVA2", "EVA3", "EVA4"),
  workflow = c("WRK1", "WRK2", "WRK3", "WRK4"),
  strategy = c("STR1", "STR2", "STR3", "STR4"), change = c("CHG1", "CHG2", "CHG3", "CHG4"),
  governance = c("GOV1", "GOV2", "GOV3"))
tiers <- list(literacy = c("concepts", "data", "ethics"),
              applied = c("prompting", "tools", "evaluation", "workflow"),
              leadership = c("strategy", "change", "governance"))
m1 <- function(f) paste(f, "=~", paste(comps[[f]], collapse = " + "))
tm <- function(t) paste(sapply(tiers[[t]], m1), collapse = "\n")
named <- function(v, n) as.list(stats::setNames(v, n))
fitm <- function(fit, robust) {
  keys <- c("chisq", "df", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "srmr")
  if (robust) keys <- c("chisq.scaled", "df", "cfi.robust", "tli.robust", "rmsea.robust",
                        "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "srmr")
  v <- lavaan::fitMeasures(fit, keys)
  stats::setNames(as.list(unname(v)), c("chisq", "df", "cfi", "tli", "rmsea", "rmsea_ci_lower",
                                        "rmsea_ci_upper", "srmr"))
}
out <- list()
for (f in names(comps)) {
  a <- psych::alpha(x[, comps[[f]]], warnings = FALSE)
  entry <- list(raw_alpha = a$total$raw_alpha,
                feldt_lower = a$feldt$lower.ci[[1]], feldt_upper = a$feldt$upper.ci[[1]])
  for (variant in c("ml_listwise", "mlr_fiml")) {
    fit <- if (variant == "ml_listwise") lavaan::cfa(m1(f), data = x) else
      lavaan::cfa(m1(f), data = x, estimator = "MLR", missing = "ml")
    s <- lavaan::standardizedSolution(fit)
    s <- s[s$op == "=~", ]
    entry[[variant]] <- list(
      omega = unname(semTools::compRelSEM(fit)),
      std_loading = named(s$est.std, s$rhs), loading_lower = named(s$ci.lower, s$rhs),
      loading_upper = named(s$ci.upper, s$rhs),
      fit = if (length(comps[[f]]) >= 4) fitm(fit, variant == "mlr_fiml") else NULL)
  }
  out$competencies[[f]] <- entry
}
for (t in names(tiers)) {
  entry <- list()
  h1 <- semTools::htmt(tm(t), data = x, htmt2 = FALSE)
  h2 <- semTools::htmt(tm(t), data = x, htmt2 = TRUE)
  pairs <- list()
  fs <- tiers[[t]]
  for (i in seq_along(fs)) for (j in seq_along(fs)) if (i < j)
    pairs[[paste(fs[i], fs[j], sep = " ~ ")]] <- list(htmt = h1[fs[j], fs[i]],
                                                      htmt2 = h2[fs[j], fs[i]])
  entry$htmt <- pairs
  for (variant in c("ml_listwise", "mlr_fiml")) {
    est <- if (variant == "ml_listwise") "ML" else "MLR"
    mis <- if (variant == "ml_listwise") "listwise" else "ml"
    fit <- lavaan::cfa(tm(t), data = x, estimator = est, missing = mis)
    mi <- lavaan::modindices(fit, sort. = TRUE)
    own <- stats::setNames(rep(fs, sapply(fs, function(f) length(comps[[f]]))),
                           unlist(comps[fs]))
    cross <- mi[mi$op == "=~" & mi$rhs %in% names(own) & mi$lhs != own[mi$rhs], ][1, ]
    e <- list(composite_reliability = as.list(semTools::compRelSEM(fit)),
              ave = as.list(semTools::AVE(fit)),
              cor_lv = {p <- lavaan::lavInspect(fit, "cor.lv");
                        stats::setNames(lapply(seq_along(fs), function(i) as.list(p[i, ])), fs)},
              top_cross_loading = list(lhs = cross$lhs, rhs = cross$rhs, mi = cross$mi,
                                       sepc_all = cross$sepc.all),
              fit = fitm(fit, variant == "mlr_fiml"))
    if (length(fs) >= 4) {
      fit2 <- lavaan::cfa(paste(tm(t), "\n", t, "=~", paste(fs, collapse = " + ")),
                          data = x, estimator = est, missing = mis)
      lr <- lavaan::lavTestLRT(fit, fit2)
      e$second_order <- list(chisq_diff = lr[["Chisq diff"]][2], df_diff = lr[["Df diff"]][2],
                             pvalue = lr[["Pr(>Chisq)"]][2])
    }
    entry[[variant]] <- e
  }
  out$tiers[[t]] <- entry
}
res <- list(dataset = "sample_scored", generated = format(Sys.time(), tz = "UTC"),
            software = list(R = R.version.string,
                            psych = as.character(packageVersion("psych")),
                            lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))),
            values = out)
writeLines(jsonlite::toJSON(res, auto_unbox = TRUE, digits = NA, null = "null", na = "null",
                            pretty = TRUE), "ref_extra/validate_extra.json")
