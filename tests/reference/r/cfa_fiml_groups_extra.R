# References for issue 8: multi-group CFA with FIML (HS with planted MCAR by school), ML and
# MLR, configural and metric, and their lavTestLRT (Satorra-Bentler 2001 under MLR).
# Run from tests/reference/:  Rscript r/cfa_fiml_groups_extra.R
# Writes ref_extra/cfa_fiml_groups_extra.json in the schema of the shared reference files.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })

hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
hs_mis <- utils::read.csv("ref_extra/hs_missing.csv")  # id, x1..x9 (8% MCAR, seeded)
hs_mis$school <- hs$school[match(hs_mis$id, hs$id)]
m_hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"

key <- function(df) {
  k <- paste0(df$lhs, df$op, df$rhs)
  if (!is.null(df$group) && max(df$group) > 1) k <- paste0(k, ".g", df$group)
  k
}
pe_list <- function(fit) {
  pe <- parameterEstimates(fit, ci = TRUE, level = .95)
  out <- lapply(seq_len(nrow(pe)), function(i) list(est = pe$est[i], se = pe$se[i],
    z = if (is.na(pe$z[i])) NULL else pe$z[i], pvalue = if (is.na(pe$pvalue[i])) NULL else pe$pvalue[i],
    ci.lower = pe$ci.lower[i], ci.upper = pe$ci.upper[i]))
  names(out) <- key(pe); out
}
fit_values <- function(fit) {
  fm <- fitMeasures(fit)
  list(converged = lavInspect(fit, "converged"), iterations = lavInspect(fit, "iterations"),
       nobs = as.list(setNames(lavInspect(fit, "nobs"), seq_along(lavInspect(fit, "nobs")))),
       npar = lavInspect(fit, "npar"),
       fitMeasures = as.list(setNames(as.numeric(fm), names(fm))),
       parameterEstimates = pe_list(fit))
}
lrt_values <- function(tab) {
  df <- as.data.frame(tab)
  out <- lapply(names(df), function(col) {
    v <- df[[col]]; l <- lapply(v, function(x) if (is.na(x)) NULL else x); names(l) <- rownames(df); l })
  names(out) <- names(df); out
}
checks <- list()
fits <- list()
for (est in c("ML", "MLR")) {
  for (eq in c("configural", "metric")) {
    ge <- if (eq == "metric") "loadings" else ""
    call <- sprintf('lavaan::cfa(model = m_hs, data = hs_mis, group = "school", missing = "ml", estimator = "%s"%s)',
                    est, if (eq == "metric") ', group.equal = "loadings"' else "")
    fit <- eval(parse(text = call))
    id <- sprintf("cfa.mg.%s.%s.fiml.hs_missing", eq, est)
    fits[[id]] <- fit
    checks[[length(checks) + 1]] <- list(id = id, analysis = "lavaan::cfa", call = call,
      options = list(model = m_hs, estimator = est, missing = "ml", group = "school",
                     group.equal = if (eq == "metric") "loadings" else NULL,
                     data = "ref_extra/hs_missing.csv + school from HolzingerSwineford1939 by id"),
      values = fit_values(fit), notes = list())
  }
  a <- fits[[sprintf("cfa.mg.configural.%s.fiml.hs_missing", est)]]
  b <- fits[[sprintf("cfa.mg.metric.%s.fiml.hs_missing", est)]]
  checks[[length(checks) + 1]] <- list(id = sprintf("lrt.mg.fiml.%s", est), analysis = "lavaan::lavTestLRT",
    call = "lavaan::lavTestLRT(configural, metric)", options = list(estimator = est),
    values = lrt_values(lavTestLRT(a, b)), notes = list())
}

out <- list(dataset = "extra", description = "issue 8 references: two-group CFA with FIML (ML, MLR), configural and metric, lavTestLRT",
  software = list(R = R.version.string, packages = list(lavaan = as.character(packageVersion("lavaan")),
    jsonlite = as.character(packageVersion("jsonlite")))),
  generated = as.character(Sys.Date()), n_checks = length(checks), checks = checks)
full <- function(x) {
  if (is.list(x)) return(lapply(x, full))
  if (is.double(x) && length(x) == 1) {
    if (is.na(x)) return(NULL)
    if (is.infinite(x)) return(if (x > 0) "Inf" else "-Inf")
    return(structure(sprintf("%.17g", x), class = "json"))
  }
  x
}
writeLines(toJSON(full(out), auto_unbox = TRUE, json_verbatim = TRUE, null = "null", na = "null",
                  pretty = FALSE), "ref_extra/cfa_fiml_groups_extra.json")
cat("wrote", length(checks), "checks\n")
