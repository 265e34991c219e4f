# References for issue 8 (FIML, MLR, nested-model tests) beyond the shared set.
# Run from tests/reference/:  Rscript r/cfa_fiml_mlr_extra.R
# Writes ref_extra/cfa_fiml_mlr_extra.json in the schema of the shared reference files.
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
RNGkind("Mersenne-Twister", "Inversion", "Rejection")

hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
bfi <- utils::read.csv("data/bfi.csv")
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
bfi_r <- bfi; bfi_r[rev_items] <- 7 - bfi_r[rev_items]
ability <- utils::read.csv("data/ability.csv")

m_hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
m_bfi <- "agree =~ A1 + A2 + A3 + A4 + A5\nconscientious =~ C1 + C2 + C3 + C4 + C5\nextraversion =~ E1 + E2 + E3 + E4 + E5\nneuroticism =~ N1 + N2 + N3 + N4 + N5\nopenness =~ O1 + O2 + O3 + O4 + O5"
m_ab4 <- "reasoning =~ reason.4 + reason.16 + reason.17 + reason.19\nletters =~ letter.7 + letter.33 + letter.34 + letter.58\nmatrix =~ matrix.45 + matrix.46 + matrix.47 + matrix.55\nrotate =~ rotate.3 + rotate.4 + rotate.6 + rotate.8"
m_ab2 <- paste0(m_ab4, "\ng =~ reasoning + letters + matrix + rotate")

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
std_list <- function(fit) {
  s <- standardizedSolution(fit, type = "std.all")
  out <- lapply(seq_len(nrow(s)), function(i) list(est.std = s$est.std[i], se = s$se[i],
    z = if (is.na(s$z[i])) NULL else s$z[i], pvalue = if (is.na(s$pvalue[i])) NULL else s$pvalue[i]))
  names(out) <- key(s); out
}
fit_values <- function(fit) {
  fm <- fitMeasures(fit)
  list(converged = lavInspect(fit, "converged"), iterations = lavInspect(fit, "iterations"),
       nobs = as.list(setNames(lavInspect(fit, "nobs"), seq_along(lavInspect(fit, "nobs")))),
       npar = lavInspect(fit, "npar"),
       fitMeasures = as.list(setNames(as.numeric(fm), names(fm))),
       parameterEstimates = pe_list(fit), standardizedSolution = std_list(fit))
}
checks <- list()
add_fit <- function(id, call, options, fit, notes = list()) {
  checks[[length(checks) + 1]] <<- list(id = id, analysis = "lavaan::cfa", call = call,
    options = options, values = fit_values(fit), notes = notes)
}

# 1. plain ML with FIML on bfi (issue 8: pin the ML + FIML path, not only MLR + FIML)
call <- 'lavaan::cfa(model = m_bfi, data = bfi_r, missing = "ml")'
fit_bfi_fiml <- eval(parse(text = call))
add_fit("cfa.5f.ML.fiml.bfi", call, list(model = m_bfi, estimator = "ML", missing = "ml", data = "bfi_r"),
        fit_bfi_fiml, list("bfi with reverse-keyed items rescored 7 - x"))

# 2. MLR with expected information on HS (pins the information = "expected" path)
call <- 'lavaan::cfa(model = m_hs, data = hs, estimator = "MLR", information = "expected")'
fit_hs_mlr_exp <- eval(parse(text = call))
add_fit("cfa.3f.MLR.expected.hs", call, list(model = m_hs, estimator = "MLR", information = "expected",
        missing = "listwise", data = "hs"), fit_hs_mlr_exp)

# 3. ML FIML on HS with planted missingness (MCAR, seeded) - small and fast to fit
set.seed(20261126)
hs_mis <- hs
items <- paste0("x", 1:9)
for (v in items) hs_mis[[v]][stats::runif(nrow(hs)) < 0.08] <- NA
utils::write.csv(hs_mis[, c("id", items)], "ref_extra/hs_missing.csv", row.names = FALSE, na = "")
call <- 'lavaan::cfa(model = m_hs, data = hs_mis, missing = "ml")'
fit_hs_fiml <- eval(parse(text = call))
add_fit("cfa.3f.ML.fiml.hs_missing", call, list(model = m_hs, estimator = "ML", missing = "ml",
        data = "ref_extra/hs_missing.csv (HS x1..x9 with 8% MCAR per item, seed 20261126)"), fit_hs_fiml)
call <- 'lavaan::cfa(model = m_hs, data = hs_mis, missing = "ml", estimator = "MLR")'
fit_hs_fiml_mlr <- eval(parse(text = call))
add_fit("cfa.3f.MLR.fiml.hs_missing", call, list(model = m_hs, estimator = "MLR", missing = "ml",
        data = "ref_extra/hs_missing.csv"), fit_hs_fiml_mlr)

# 4. nested single-group tests: correlated 4 factors vs second-order on ability (ML and MLR)
lrt_values <- function(tab) {
  df <- as.data.frame(tab)
  out <- lapply(names(df), function(col) {
    v <- df[[col]]; l <- lapply(v, function(x) if (is.na(x)) NULL else x); names(l) <- rownames(df); l })
  names(out) <- names(df); out
}
fit_c <- lavaan::cfa(m_ab4, data = ability)
fit_s <- lavaan::cfa(m_ab2, data = ability)
checks[[length(checks) + 1]] <- list(id = "lrt.ability.corr_vs_2nd.ML", analysis = "lavaan::lavTestLRT",
  call = 'lavaan::lavTestLRT(lavaan::cfa(m_ab4, data = ability), lavaan::cfa(m_ab2, data = ability))',
  options = list(model_a = m_ab4, model_b = m_ab2, estimator = "ML", missing = "listwise"),
  values = lrt_values(lavTestLRT(fit_c, fit_s)), notes = list())
fit_cr <- lavaan::cfa(m_ab4, data = ability, estimator = "MLR")
fit_sr <- lavaan::cfa(m_ab2, data = ability, estimator = "MLR")
checks[[length(checks) + 1]] <- list(id = "lrt.ability.corr_vs_2nd.MLR", analysis = "lavaan::lavTestLRT",
  call = 'lavaan::lavTestLRT(lavaan::cfa(m_ab4, data = ability, estimator = "MLR"), lavaan::cfa(m_ab2, data = ability, estimator = "MLR"))',
  options = list(model_a = m_ab4, model_b = m_ab2, estimator = "MLR", missing = "listwise",
                 method = "satorra.bentler.2001"),
  values = lrt_values(lavTestLRT(fit_cr, fit_sr)), notes = list())

out <- list(dataset = "extra", description = "issue 8 references: ML+FIML (bfi, HS with MCAR), MLR expected information, MLR+FIML, single-group nested LRTs",
  software = list(R = R.version.string, packages = list(lavaan = as.character(packageVersion("lavaan")),
    jsonlite = as.character(packageVersion("jsonlite")))),
  generated = as.character(Sys.Date()), n_checks = length(checks), checks = checks)
# jsonlite writes at most 15 significant digits: write every double with 17 instead
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
                  pretty = FALSE), "ref_extra/cfa_fiml_mlr_extra.json")
cat("wrote", length(checks), "checks\n")
