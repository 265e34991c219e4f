# References for the engine-agnostic FIML / MLR pieces of issue 8 (psychoval.stats.sem._fiml,
# psychoval.stats.sem._robust). Run from tests/reference/:  Rscript r/fiml_h1_extra.R
# Writes ref_extra/fiml_h1_extra.json (same schema as the shared reference files).
#  * fiml.h1.*   : lavaan's EM saturated moments (lavInspect "sampstat.h1"), the EM
#                  unrestricted.logl, the FIML independence model and baseline chi-square.
#  * mlr.fit.*   : fit measures (incl. scaled / robust) and parameter estimates with robust SEs,
#                  plus lavaan's internal Delta, inverted information, first-order information
#                  and trace of U Gamma, for fits whose robust pieces psychoval recomputes from
#                  the estimates (HS MLR complete data, HS MLR + FIML, ability 4f / 2nd-order MLR).
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })

hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
hs_mis <- utils::read.csv("ref_extra/hs_missing.csv")
bfi <- utils::read.csv("data/bfi.csv")
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
bfi_r <- bfi; bfi_r[rev_items] <- 7 - bfi_r[rev_items]
ability <- utils::read.csv("data/ability.csv")

m_hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
m_bfi <- "agree =~ A1 + A2 + A3 + A4 + A5\nconscientious =~ C1 + C2 + C3 + C4 + C5\nextraversion =~ E1 + E2 + E3 + E4 + E5\nneuroticism =~ N1 + N2 + N3 + N4 + N5\nopenness =~ O1 + O2 + O3 + O4 + O5"
m_ab4 <- "reasoning =~ reason.4 + reason.16 + reason.17 + reason.19\nletters =~ letter.7 + letter.33 + letter.34 + letter.58\nmatrix =~ matrix.45 + matrix.46 + matrix.47 + matrix.55\nrotate =~ rotate.3 + rotate.4 + rotate.6 + rotate.8"
m_ab2 <- paste0(m_ab4, "\ng =~ reasoning + letters + matrix + rotate")
items_bfi <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5), paste0("O", 1:5))

mat <- function(m) lapply(seq_len(nrow(m)), function(i) as.numeric(m[i, ]))
checks <- list()

h1_check <- function(id, data_name, model, data, items) {
  fit <- lavaan::cfa(model, data = data, missing = "ml")
  h1 <- lavInspect(fit, "sampstat.h1")
  fm <- fitMeasures(fit, c("unrestricted.logl", "baseline.chisq", "baseline.df", "ntotal"))
  base <- lavaan:::lav_object_independence(fit)
  pe <- parameterEstimates(base)
  checks[[length(checks) + 1]] <<- list(id = id, analysis = "lavaan::lavInspect(sampstat.h1)",
    call = sprintf('lavInspect(cfa(model, data = %s, missing = "ml"), "sampstat.h1")', data_name),
    options = list(items = items, data = data_name, missing = "ml"),
    values = list(mean = as.numeric(h1$mean), cov = mat(h1$cov),
      unrestricted.logl = fm[["unrestricted.logl"]], baseline.chisq = fm[["baseline.chisq"]],
      baseline.df = fm[["baseline.df"]], ntotal = fm[["ntotal"]],
      baseline.logl = as.numeric(logLik(base)),
      baseline.mean = pe$est[pe$op == "~1"], baseline.var = pe$est[pe$op == "~~"],
      coverage = mat(lavInspect(fit, "coverage")), npatterns = nrow(lavInspect(fit, "patterns"))),
    notes = list("EM with lavaan defaults (em.h1.iter.max 500, tol 1e-5)"))
}
h1_check("fiml.h1.hs_missing", "ref_extra/hs_missing.csv", m_hs, hs_mis, paste0("x", 1:9))
h1_check("fiml.h1.bfi", "bfi_r (bfi, reverse-keyed items rescored 7 - x)", m_bfi, bfi_r, items_bfi)

robust_check <- function(id, call, options, fit) {
  fm <- fitMeasures(fit)
  pe <- parameterEstimates(fit)
  key <- paste0(pe$lhs, pe$op, pe$rhs)
  if (!is.null(pe$group) && max(pe$group) > 1) key <- paste0(key, ".g", pe$group)
  test <- if (length(fit@test) > 1) fit@test[[2]] else list(trace.UGamma = NA_real_, scaling.factor = NA_real_)
  values <- list(fitMeasures = as.list(setNames(as.numeric(fm), names(fm))),
    est = as.list(setNames(pe$est, key)), se = as.list(setNames(pe$se, key)),
    trace.UGamma = test$trace.UGamma, scaling.factor = test$scaling.factor,
    npar = lavInspect(fit, "npar"))
  if (isTRUE(options$internals)) {
    pt <- parTable(fit)
    fidx <- which(pt$free > 0)
    values$free <- paste0(pt$lhs, pt$op, pt$rhs)[fidx[order(pt$free[fidx])]]
    values$delta = mat(lavTech(fit, "delta")[[1]])
    values$inverted.information = mat(lavTech(fit, "inverted.information"))
    values$information.first.order = mat(lavTech(fit, "information.first.order"))
    values$gamma = mat(lavTech(fit, "gamma")[[1]])
  }
  options$internals <- NULL
  checks[[length(checks) + 1]] <<- list(id = id, analysis = "lavaan::cfa", call = call,
    options = options, values = values, notes = list())
}
robust_check("mlr.fit.hs", 'cfa(m_hs, data = hs, estimator = "MLR")',
  list(model = m_hs, data = "hs", estimator = "MLR", internals = TRUE),
  lavaan::cfa(m_hs, data = hs, estimator = "MLR"))
robust_check("mlr.fit.hs.expected", 'cfa(m_hs, data = hs, estimator = "MLR", information = "expected")',
  list(model = m_hs, data = "hs", estimator = "MLR", information = "expected", internals = TRUE),
  lavaan::cfa(m_hs, data = hs, estimator = "MLR", information = "expected"))
robust_check("mlr.fit.hs_missing", 'cfa(m_hs, data = hs_mis, estimator = "MLR", missing = "ml")',
  list(model = m_hs, data = "ref_extra/hs_missing.csv", estimator = "MLR", missing = "ml", internals = TRUE),
  lavaan::cfa(m_hs, data = hs_mis, estimator = "MLR", missing = "ml"))
robust_check("ml.fit.hs_missing", 'cfa(m_hs, data = hs_mis, missing = "ml")',
  list(model = m_hs, data = "ref_extra/hs_missing.csv", estimator = "ML", missing = "ml", internals = TRUE),
  lavaan::cfa(m_hs, data = hs_mis, missing = "ml"))
robust_check("mlr.fit.ability.4f", 'cfa(m_ab4, data = ability, estimator = "MLR")',
  list(model = m_ab4, data = "ability", estimator = "MLR"),
  lavaan::cfa(m_ab4, data = ability, estimator = "MLR"))
robust_check("mlr.fit.ability.2nd", 'cfa(m_ab2, data = ability, estimator = "MLR")',
  list(model = m_ab2, data = "ability", estimator = "MLR"),
  lavaan::cfa(m_ab2, data = ability, estimator = "MLR"))

out <- list(dataset = "extra",
  description = "issue 8 engine-agnostic references: EM H1 moments, FIML baseline, MLR internals",
  software = list(R = R.version.string, packages = list(lavaan = as.character(packageVersion("lavaan")),
    jsonlite = as.character(packageVersion("jsonlite")))),
  generated = as.character(Sys.Date()), n_checks = length(checks), checks = checks)
full <- function(x) {
  if (is.list(x)) return(lapply(x, full))
  if (is.double(x)) {
    if (length(x) == 1) {
      if (is.na(x)) return(NULL)
      if (is.infinite(x)) return(if (x > 0) "Inf" else "-Inf")
      return(structure(sprintf("%.17g", x), class = "json"))
    }
    return(lapply(as.list(x), full))
  }
  x
}
writeLines(toJSON(full(out), auto_unbox = TRUE, json_verbatim = TRUE, null = "null", na = "null",
                  pretty = FALSE), "ref_extra/fiml_h1_extra.json")
cat("wrote", length(checks), "checks\n")
