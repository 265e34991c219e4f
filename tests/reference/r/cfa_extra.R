# Extra lavaan 0.6.14 references for the CFA engine (issue 7).
# Run from tests/reference:  Rscript r/cfa_extra.R   -> ref_extra/cfa_extra.json
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
dat <- utils::read.csv("data/HolzingerSwineford1939.csv")
hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
mat <- function(m) { m <- unclass(m); attr(m, "class") <- NULL; as.data.frame(m) }
pe_list <- function(pe, cols) {
  key <- paste0(pe$lhs, pe$op, pe$rhs)
  setNames(lapply(seq_len(nrow(pe)), function(i) as.list(pe[i, cols])), key)
}
checks <- list()

fit <- cfa(hs, data = dat)
pe <- parameterEstimates(fit, standardized = TRUE)
checks[[length(checks) + 1]] <- list(
  id = "hs.3f.extras",
  call = "fit <- cfa(hs, data = dat); residuals(fit, type = 'raw'/'cor.bollen'/'standardized'); lavPredict(fit, method = 'regression'/'Bartlett'); parameterEstimates(fit, standardized = TRUE); standardizedSolution(fit, type = 'std.lv')",
  model = hs,
  values = list(
    resid_raw = mat(residuals(fit, type = "raw")$cov),
    resid_cor = mat(residuals(fit, type = "cor.bollen")$cov),
    resid_std = mat(residuals(fit, type = "standardized")$cov),
    fs_regression = as.data.frame(lavPredict(fit, method = "regression")),
    fs_bartlett = as.data.frame(lavPredict(fit, method = "Bartlett")),
    std_columns = pe_list(pe, c("std.lv", "std.all", "std.nox")),
    std_lv_solution = pe_list(standardizedSolution(fit, type = "std.lv"), c("est.std", "se")),
    implied_cov = mat(fitted(fit)$cov)
  ))

m2 <- "visual =~ x1 + a*x2 + a*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\nx7 ~~ x8\nvisual ~~ 0*speed"
fit2 <- cfa(m2, data = dat)
checks[[length(checks) + 1]] <- list(
  id = "hs.syntax.labels",
  call = "cfa(m2, data = dat)  # shared label a (equality), correlated residual, fixed covariance",
  model = m2,
  values = list(
    fitMeasures = as.list(fitMeasures(fit2, c("npar", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic"))),
    parameterEstimates = pe_list(parameterEstimates(fit2), c("est", "se"))
  ))

S <- cov(dat[, paste0("x", 1:9)])
fit3 <- cfa(hs, sample.cov = S, sample.nobs = 301)
checks[[length(checks) + 1]] <- list(
  id = "hs.sample_cov",
  call = "cfa(hs, sample.cov = cov(dat[, x1..x9]), sample.nobs = 301)",
  model = hs, sample_cov = mat(S),
  values = list(
    fitMeasures = as.list(fitMeasures(fit3)),
    parameterEstimates = pe_list(parameterEstimates(fit3), c("est", "se"))
  ))

suppressMessages(library(semTools))
checks[[length(checks) + 1]] <- list(
  id = "hs.htmt.arithmetic",
  call = "semTools::htmt(hs, data = dat[, x1..x9], htmt2 = FALSE)  # original HTMT, absolute = TRUE",
  model = hs,
  values = list(htmt = mat(semTools::htmt(hs, data = dat[, paste0("x", 1:9)], htmt2 = FALSE)))
)

m5 <- paste(hs, "visual =~ x9", "x7 ~~ x8", sep = "\n")
fit5 <- cfa(m5, data = dat, std.lv = TRUE)
checks[[length(checks) + 1]] <- list(
  id = "hs.crossloading.stdlv",
  call = "cfa(m5, data = dat, std.lv = TRUE); semTools::compRelSEM(fit5); semTools::AVE(fit5)",
  model = m5,
  values = list(
    fitMeasures = as.list(fitMeasures(fit5)),
    parameterEstimates = pe_list(parameterEstimates(fit5), c("est", "se")),
    standardizedSolution = pe_list(standardizedSolution(fit5), c("est.std", "se")),
    compRelSEM = as.list(unclass(semTools::compRelSEM(fit5))),
    AVE = as.list(unclass(semTools::AVE(fit5)))
  ))

m6 <- paste(hs, "speed ~ visual + textual", sep = "\n")
fit6 <- cfa(m6, data = dat)
checks[[length(checks) + 1]] <- list(
  id = "hs.latent.regression",
  call = "cfa(m6, data = dat)  # speed regressed on visual and textual",
  model = m6,
  values = list(
    fitMeasures = as.list(fitMeasures(fit6)),
    parameterEstimates = pe_list(parameterEstimates(fit6), c("est", "se")),
    standardizedSolution = pe_list(standardizedSolution(fit6), c("est.std", "se"))
  ))

out <- list(dataset = "HolzingerSwineford1939", generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/cfa_extra.json")
