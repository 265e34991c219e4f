# lavaan 0.6.14 / semTools 0.5.6 references for pv.invariance (issue 19, the ladder).
# Run from tests/reference:  Rscript r/invariance.R   -> ref_extra/invariance.json
# 1. HolzingerSwineford1939, 3-factor model, group = "school": configural, metric
#    (loadings), scalar (+ intercepts), strict (+ residuals), for estimator ML (listwise),
#    MLR (listwise) and MLR with missing = "ml" (pv.invariance's default), each step's
#    fitMeasures and lavTestLRT between consecutive steps (Satorra-Bentler 2001 under MLR).
# 2. bfi A1-A5, C1-C5 by gender (listwise, WLSMV, delta): lavaan's group.equal ladder
#    configural, "thresholds", c("thresholds", "loadings") with lavTestLRT (satorra.2000),
#    and semTools measEq.syntax (ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016") fits of
#    the Wu & Estabrook (2016) ladder (pv.invariance's default for ordered items) with
#    lavTestLRT between its steps, and a partial scalar model (group.partial).
# 3. The same Wu & Estabrook ladder on HolzingerSwineford1939's x1-x9 cut into quartiles.
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
we_ladder <- function(model, data, items, group, prefix, partial = NULL) {
  # semTools' Wu & Estabrook (2016) ladder: every fitMeasure of each step and lavTestLRT
  # (satorra.2000) between consecutive steps
  we <- list(configural = "configural", thresholds = "thresholds",
             thresholds_loadings = c("thresholds", "loadings"),
             thresholds_loadings_intercepts = c("thresholds", "loadings", "intercepts"))
  fits <- list()
  for (lv in names(we)) {
    fit <- measEq.syntax(model, data = data, ordered = items, parameterization = "delta",
                         ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = group,
                         group.equal = we[[lv]], return.fit = TRUE)
    fits[[lv]] <- fit
    checks[[length(checks) + 1]] <<- list(
      id = paste0(prefix, lv), level = lv, group_equal = we[[lv]],
      call = sprintf("measEq.syntax(m, data = d, ordered = items, parameterization = 'delta', ID.fac = 'std.lv', ID.cat = 'Wu.Estabrook.2016', group = '%s', group.equal = c(%s), return.fit = TRUE)",
                     group, paste0("'", we[[lv]], "'", collapse = ", ")),
      values = list(fitMeasures = as.list(fitMeasures(fit)),
                    converged = lavInspect(fit, "converged")))
  }
  for (i in 2:length(fits)) {
    a <- names(fits)[i - 1]; b <- names(fits)[i]
    checks[[length(checks) + 1]] <<- lrt_check(
      fits[[a]], fits[[b]], paste0(prefix, "lrt.", a, "_vs_", b),
      sprintf("lavTestLRT(%s, %s)  # satorra.2000", a, b))
  }
  if (!is.null(partial)) {
    fit <- measEq.syntax(model, data = data, ordered = items, parameterization = "delta",
                         ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = group,
                         group.equal = we$thresholds_loadings_intercepts,
                         group.partial = partial, return.fit = TRUE)
    checks[[length(checks) + 1]] <<- list(
      id = paste0(prefix, "partial"), level = "scalar", group_partial = partial,
      call = sprintf("measEq.syntax(..., group.equal = c('thresholds', 'loadings', 'intercepts'), group.partial = c(%s), return.fit = TRUE)",
                     paste0("'", partial, "'", collapse = ", ")),
      values = list(fitMeasures = as.list(fitMeasures(fit)),
                    converged = lavInspect(fit, "converged")))
    checks[[length(checks) + 1]] <<- lrt_check(
      fits[["thresholds_loadings"]], fit, paste0(prefix, "lrt.partial"),
      "lavTestLRT(thresholds_loadings, partial)  # satorra.2000")
  }
}
we_ladder(m_bfi, d, items, "gender", "bfi.gender.semtools_we.", partial = c("A1 ~ 1", "C5 ~ 1"))

# 3. HolzingerSwineford1939 x1-x9 cut at their quartiles into 4 ordered categories
#    (written to ref_extra/hs_ordered.csv), the Wu & Estabrook ladder by school
hs_o <- hs[, c("school", paste0("x", 1:9))]
for (v in paste0("x", 1:9)) {
  hs_o[[v]] <- as.integer(cut(hs[[v]], breaks = unique(quantile(hs[[v]], c(0, .25, .5, .75, 1))),
                              include.lowest = TRUE, labels = FALSE))
}
utils::write.csv(hs_o, "ref_extra/hs_ordered.csv", row.names = FALSE)
we_ladder(m_hs, hs_o, paste0("x", 1:9), "school", "hs_ordered.school.semtools_we.")

out <- list(dataset = "HolzingerSwineford1939, bfi", generated = as.character(Sys.Date()),
            software = list(R = R.version.string,
                            lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/invariance.json")
