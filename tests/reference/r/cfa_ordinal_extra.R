# lavaan 0.6.14 references for the public ordinal CFA (pv.cfa(..., ordered=)) beyond the
# shared reference checks: std.lv = TRUE on 0/1 items, residual covariances between ordered
# items, a saturated model (df = 0) and estimator = "DWLS".
# Run from tests/reference:  Rscript r/cfa_ordinal_extra.R   -> ref_extra/cfa_ordinal_extra.json
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
ab <- utils::read.csv("data/ability.csv")
bfi <- utils::read.csv("data/bfi.csv")
rows <- function(df, cols) {
  key <- paste0(df$lhs, df$op, df$rhs)
  setNames(lapply(seq_len(nrow(df)), function(i) as.list(df[i, cols])), key)
}
one <- function(id, call, model, fit) {
  mi <- modindices(fit, sort. = TRUE, maximum.number = 10)
  list(id = id, call = call, model = model, values = list(
    nobs = lavInspect(fit, "nobs"),
    fitMeasures = as.list(fitMeasures(fit)),
    parameterEstimates = rows(parameterEstimates(fit), c("est", "se", "z", "pvalue",
                                                         "ci.lower", "ci.upper")),
    standardizedSolution = rows(standardizedSolution(fit), c("est.std", "se", "z",
                                                             "pvalue", "ci.lower",
                                                             "ci.upper")),
    standardizedSolution_stdlv = rows(standardizedSolution(fit, type = "std.lv"),
                                      c("est.std", "se")),
    modindices_top10 = lapply(seq_len(nrow(mi)), function(i)
      as.list(mi[i, c("lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")]))))
}
items <- c("reason.4", "reason.16", "reason.17", "reason.19", "letter.7", "letter.33")
m1 <- paste("g =~", paste(items, collapse = " + "))
m3 <- "g =~ reason.4 + reason.16 + reason.17"
m2 <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\nA1 ~~ A2\nC4 ~~ C5"
checks <- list(
  one("ability.6.stdlv", "cfa(m1, data = ab, ordered = items, std.lv = TRUE)", m1,
      cfa(m1, data = ab, ordered = items, std.lv = TRUE)),
  one("bfi.AC.rescov", "cfa(m2, data = bfi, ordered = TRUE)", m2,
      cfa(m2, data = bfi, ordered = TRUE)),
  one("ability.3.saturated", "cfa(m3, data = ab, ordered = TRUE)  # df = 0", m3,
      cfa(m3, data = ab, ordered = TRUE)),
  one("bfi.AC.rescov.dwls", "cfa(m2, data = bfi, ordered = TRUE, estimator = 'DWLS')", m2,
      cfa(m2, data = bfi, ordered = TRUE, estimator = "DWLS")))
out <- list(generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/cfa_ordinal_extra.json")
