# lavaan 0.6.14 references for partial invariance (issue 19): group.partial and the
# score-test search. Run from tests/reference:  Rscript r/invariance_partial.R
#   -> ref_extra/invariance_partial.json
# HolzingerSwineford1939, 3-factor model, group = "school", MLR (listwise):
# 1. the scalar fit and lavTestScore(fit_scalar) univariate score tests of its equality
#    constraints, each mapped to the parameter (lhs op rhs) it constrains;
# 2. a forward search as pv.invariance(partial=TRUE): free the intercept with the largest
#    univariate score test, refit, until lavTestLRT(metric, partial) holds at .05 or the best
#    score test is not significant at .05 / (number of candidates) - every step recorded;
# 3. partial fits: scalar with group.partial = the freed intercepts, scalar with
#    group.partial = c("x3 ~1", "x7 ~1"), metric with group.partial = "visual =~ x2":
#    fitMeasures, parameterEstimates est / se, lavTestLRT against metric / configural.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })

hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
m_hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
fit_one <- function(eq, partial = character(0)) {
  cfa(m_hs, data = hs, group = "school", group.equal = eq, group.partial = partial,
      estimator = "MLR")
}
pe_list <- function(fit) {
  pe <- parameterEstimates(fit)
  list(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = pe$group, est = pe$est, se = pe$se)
}
score_table <- function(fit) {
  st <- lavTestScore(fit, univariate = TRUE, cumulative = FALSE)$uni
  pt <- parTable(fit)
  # each constraint ".pA. == .pB.": the parameter is the row of label .pB. (group 2)
  rhs_lab <- trimws(st$rhs)
  idx <- match(rhs_lab, pt$plabel)
  list(lhs_label = trimws(st$lhs), rhs_label = rhs_lab,
       par_lhs = pt$lhs[idx], par_op = pt$op[idx], par_rhs = pt$rhs[idx],
       X2 = st$X2, df = st$df, p_value = st$p.value)
}
checks <- list()
configural <- fit_one("")
metric <- fit_one("loadings")
scalar <- fit_one(c("loadings", "intercepts"))
checks[[length(checks) + 1]] <- list(
  id = "hs.school.mlr.scalar.score", call = "lavTestScore(scalar, univariate = TRUE)",
  values = score_table(scalar))

# the forward search on intercepts
freed <- character(0)
steps <- list()
current <- scalar
n_cand <- 9
repeat {
  t <- lavTestLRT(metric, current)
  holds <- t[["Pr(>Chisq)"]][2] >= 0.05
  st <- score_table(current)
  ok <- st$par_op == "~1"
  best <- which(ok)[which.max(st$X2[ok])]
  name <- paste(st$par_lhs[best], "~1")
  steps[[length(steps) + 1]] <- list(
    freed = freed, chisq_diff = t[["Chisq diff"]][2], df_diff = t[["Df diff"]][2],
    pvalue = t[["Pr(>Chisq)"]][2], holds = holds, best = name, best_X2 = st$X2[best],
    best_p = st$p_value[best], candidates = sum(ok))
  if (holds || st$p_value[best] >= 0.05 / sum(ok) || length(freed) >= 4) break
  freed <- c(freed, name)
  current <- fit_one(c("loadings", "intercepts"), freed)
}
checks[[length(checks) + 1]] <- list(
  id = "hs.school.mlr.search", call = "forward search by lavTestScore univariate",
  values = list(freed = freed, steps = steps))

partials <- list(
  scalar_search = list(eq = c("loadings", "intercepts"), partial = freed, base = metric),
  scalar_x3_x7 = list(eq = c("loadings", "intercepts"), partial = c("x3 ~1", "x7 ~1"),
                      base = metric),
  metric_visual_x2 = list(eq = "loadings", partial = "visual =~ x2", base = configural))
for (nm in names(partials)) {
  p <- partials[[nm]]
  fit <- fit_one(p$eq, p$partial)
  t <- lavTestLRT(p$base, fit)
  checks[[length(checks) + 1]] <- list(
    id = paste0("hs.school.mlr.partial.", nm),
    call = sprintf("cfa(m_hs, data = hs, group = 'school', group.equal = c(%s), group.partial = c(%s), estimator = 'MLR')",
                   paste0("'", p$eq, "'", collapse = ", "),
                   paste0("'", p$partial, "'", collapse = ", ")),
    group_equal = p$eq, group_partial = p$partial,
    values = list(fitMeasures = as.list(fitMeasures(fit)), estimates = pe_list(fit),
                  converged = lavInspect(fit, "converged"),
                  lrt = list(chisq_diff = t[["Chisq diff"]][2], df_diff = t[["Df diff"]][2],
                             pvalue = t[["Pr(>Chisq)"]][2])))
}
out <- list(dataset = "HolzingerSwineford1939", generated = as.character(Sys.Date()),
            software = list(R = R.version.string,
                            lavaan = as.character(packageVersion("lavaan"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/invariance_partial.json")
