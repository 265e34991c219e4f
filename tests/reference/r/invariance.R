# lavaan 0.6.14 / semTools 0.5.6 references for pv.invariance (issue 19, the ladder).
# Run from tests/reference:  Rscript r/invariance.R   -> ref_extra/invariance.json
# 1. HolzingerSwineford1939, 3-factor model, group = "school": configural, metric
#    (loadings), scalar (+ intercepts), strict (+ residuals), for estimator ML (listwise),
#    MLR (listwise) and MLR with missing = "ml" (pv.invariance's default), each step's
#    fitMeasures and lavTestLRT between consecutive steps (Satorra-Bentler 2001 under MLR).
# 2. bfi A1-A5, C1-C5 by gender (listwise, WLSMV, delta): lavaan's group.equal ladder
#    configural, "thresholds", c("thresholds", "loadings") with lavTestLRT (satorra.2000),
#    and semTools measEq.syntax (ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016") fits of
#    the Wu & Estabrook (2016) ladder for the record (which of its steps lavaan's
#    group.equal can express: configural and thresholds + loadings + intercepts).
suppressPackageStartupMessages({ library(lavaan); library(semTools); library(jsonlite) })

hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
m_hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
levels_c <- list(configural = "", metric = "loadings",
                 scalar = c("loadings", "intercepts"),
                 strict = c("loadings", "intercepts", "residuals"))
checks <- list()
lrt_check <- function(a, b, id, call) {
  t <- lavTestLRT(a, b)
  list(id = id, call = call,
       values = list(chisq_diff = t[["Chisq diff"]][2], df_diff = t[["Df diff"]][2],
                     pvalue = t[["Pr(>Chisq)"]][2], chisq = t[["Chisq"]], df = t[["Df"]]))
}
variants <- list(ml = list(estimator = "ML", missing = "listwise"),
                 mlr = list(estimator = "MLR", missing = "listwise"),
                 mlr_fiml = list(estimator = "MLR", missing = "ml"))
for (v in names(variants)) {
  est <- variants[[v]]$estimator; mis <- variants[[v]]$missing
  fits <- list()
  for (lv in names(levels_c)) {
    eq <- levels_c[[lv]]
    fit <- cfa(m_hs, data = hs, group = "school", group.equal = eq, estimator = est,
               missing = mis)
    fits[[lv]] <- fit
    checks[[length(checks) + 1]] <- list(
      id = paste0("hs.school.", v, ".", lv),
      call = sprintf("cfa(m_hs, data = hs, group = 'school', group.equal = c(%s), estimator = '%s', missing = '%s')",
                     paste0("'", eq, "'", collapse = ", "), est, mis),
      estimator = est, missing = mis, level = lv, group_equal = eq,
      values = list(fitMeasures = as.list(fitMeasures(fit)),
                    converged = lavInspect(fit, "converged")))
  }
  for (i in 2:length(fits)) {
    a <- names(fits)[i - 1]; b <- names(fits)[i]
    checks[[length(checks) + 1]] <- lrt_check(
      fits[[a]], fits[[b]], paste0("hs.school.", v, ".lrt.", a, "_vs_", b),
      sprintf("lavTestLRT(%s, %s)", a, b))
  }
}

dat <- utils::read.csv("data/bfi.csv")
items <- c(paste0("A", 1:5), paste0("C", 1:5))
d <- na.omit(dat[, c(items, "gender")])
m_bfi <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
levels_o <- list(configural = "", thresholds = "thresholds",
                 scalar = c("thresholds", "loadings"))
fits <- list()
for (lv in names(levels_o)) {
  eq <- levels_o[[lv]]
  fit <- cfa(m_bfi, data = d, ordered = TRUE, estimator = "WLSMV", group = "gender",
             group.equal = eq)
  fits[[lv]] <- fit
  checks[[length(checks) + 1]] <- list(
    id = paste0("bfi.gender.wlsmv.", lv),
    call = sprintf("cfa(m_bfi, data = d, ordered = TRUE, estimator = 'WLSMV', group = 'gender', group.equal = c(%s))",
                   paste0("'", eq, "'", collapse = ", ")),
    estimator = "WLSMV", missing = "listwise", level = lv, group_equal = eq,
    values = list(fitMeasures = as.list(fitMeasures(fit)),
                  converged = lavInspect(fit, "converged")))
}
for (i in 2:length(fits)) {
  a <- names(fits)[i - 1]; b <- names(fits)[i]
  checks[[length(checks) + 1]] <- lrt_check(
    fits[[a]], fits[[b]], paste0("bfi.gender.wlsmv.lrt.", a, "_vs_", b),
    sprintf("lavTestLRT(%s, %s)  # satorra.2000", a, b))
}
we <- list(configural = "configural", thresholds = "thresholds",
           thresholds_loadings = c("thresholds", "loadings"),
           thresholds_loadings_intercepts = c("thresholds", "loadings", "intercepts"))
for (lv in names(we)) {
  fit <- measEq.syntax(m_bfi, data = d, ordered = items, parameterization = "delta",
                       ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = "gender",
                       group.equal = we[[lv]], return.fit = TRUE)
  checks[[length(checks) + 1]] <- list(
    id = paste0("bfi.gender.semtools_we.", lv),
    call = sprintf("measEq.syntax(m_bfi, data = d, ordered = items, parameterization = 'delta', ID.fac = 'std.lv', ID.cat = 'Wu.Estabrook.2016', group = 'gender', group.equal = c(%s), return.fit = TRUE)",
                   paste0("'", we[[lv]], "'", collapse = ", ")),
    values = list(fitMeasures = as.list(fitMeasures(
      fit, c("npar", "chisq", "df", "chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr")))))
}
out <- list(dataset = "HolzingerSwineford1939, bfi", generated = as.character(Sys.Date()),
            software = list(R = R.version.string,
                            lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/invariance.json")
