# lavaan 0.6.14 references for the ordinal CFA estimators beyond WLSMV / DWLS (issue 18):
# estimator = "ULSMV", "ULS", "WLS" and WLSMV with parameterization = "theta" on bfi A1-A5,
# C1-C5 (raw codes, listwise), and lavTestLRT of nested WLSMV fits (method "satorra.2000",
# lavaan's default for them): ability 2nd-order vs 4 correlated factors, bfi 1 vs 2 factors.
# Run from tests/reference:  Rscript r/wlsmv_estimators.R   -> ref_extra/wlsmv_estimators.json
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
ab <- utils::read.csv("data/ability.csv")
bfi <- utils::read.csv("data/bfi.csv")
rows <- function(df, cols) {
  key <- paste0(df$lhs, df$op, df$rhs)
  setNames(lapply(seq_len(nrow(df)), function(i) as.list(df[i, cols])), key)
}
one <- function(id, call, model, fit) {
  list(id = id, call = call, model = model, values = list(
    nobs = lavInspect(fit, "nobs"),
    converged = lavInspect(fit, "converged"),
    fitMeasures = as.list(fitMeasures(fit)),
    shift_parameter = if (length(fit@test) > 1 && !is.null(fit@test[[2]]$shift.parameter))
      fit@test[[2]]$shift.parameter else NULL,
    parameterEstimates = rows(parameterEstimates(fit), c("est", "se")),
    standardizedSolution = rows(standardizedSolution(fit), c("est.std", "se")),
    implied_cov = unname(lavInspect(fit, "implied")$cov)))
}
lrt <- function(id, call, models, a, b) {
  t <- lavTestLRT(a, b)
  list(id = id, call = call, models = models, values = list(
    Df = t$Df, Chisq = t$Chisq, Chisq_diff = t[["Chisq diff"]], Df_diff = t[["Df diff"]],
    pvalue = t[["Pr(>Chisq)"]], rownames = rownames(t), method = attr(t, "heading")))
}
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
m2 <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
m1 <- "g =~ A1 + A2 + A3 + A4 + A5 + C1 + C2 + C3 + C4 + C5"
ab_items <- c("reason.4", "reason.16", "reason.17", "reason.19", "letter.7", "letter.33",
              "letter.34", "letter.58", "matrix.45", "matrix.46", "matrix.47", "matrix.55",
              "rotate.3", "rotate.4", "rotate.6", "rotate.8")
m4 <- paste("reasoning =~ reason.4 + reason.16 + reason.17 + reason.19",
            "letters =~ letter.7 + letter.33 + letter.34 + letter.58",
            "matrix =~ matrix.45 + matrix.46 + matrix.47 + matrix.55",
            "rotate =~ rotate.3 + rotate.4 + rotate.6 + rotate.8", sep = "\n")
m2nd <- paste(m4, "g =~ reasoning + letters + matrix + rotate", sep = "\n")
d <- bfi[, ac]
f_ulsmv <- cfa(m2, data = d, ordered = TRUE, estimator = "ULSMV")
f_uls <- cfa(m2, data = d, ordered = TRUE, estimator = "ULS")
f_wls <- cfa(m2, data = d, ordered = TRUE, estimator = "WLS")
f_theta <- cfa(m2, data = d, ordered = TRUE, parameterization = "theta")
f_theta_lv <- cfa(m2, data = d, ordered = TRUE, parameterization = "theta", std.lv = TRUE)
f_1 <- cfa(m1, data = d, ordered = TRUE)
f_2 <- cfa(m2, data = d, ordered = TRUE)
f_1u <- cfa(m1, data = d, ordered = TRUE, estimator = "ULSMV")
a4 <- cfa(m4, data = ab, ordered = ab_items)
a2 <- cfa(m2nd, data = ab, ordered = ab_items)
checks <- list(
  one("bfi.AC.ulsmv", "cfa(m2, data = d, ordered = TRUE, estimator = 'ULSMV')", m2, f_ulsmv),
  one("bfi.AC.uls", "cfa(m2, data = d, ordered = TRUE, estimator = 'ULS')", m2, f_uls),
  one("bfi.AC.wls", "cfa(m2, data = d, ordered = TRUE, estimator = 'WLS')", m2, f_wls),
  one("bfi.AC.theta", "cfa(m2, data = d, ordered = TRUE, parameterization = 'theta')", m2,
      f_theta),
  one("bfi.AC.theta.stdlv",
      "cfa(m2, data = d, ordered = TRUE, parameterization = 'theta', std.lv = TRUE)", m2,
      f_theta_lv),
  lrt("ability.2nd_vs_4f.lrt", "lavTestLRT(a2, a4)  # WLSMV fits", list(m2nd, m4), a2, a4),
  lrt("bfi.1f_vs_2f.lrt", "lavTestLRT(f_1, f_2)  # WLSMV fits", list(m1, m2), f_1, f_2),
  lrt("bfi.1f_vs_2f.ulsmv.lrt", "lavTestLRT(f_1u, f_ulsmv)  # ULSMV fits", list(m1, m2),
      f_1u, f_ulsmv))
out <- list(generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/wlsmv_estimators.json")
