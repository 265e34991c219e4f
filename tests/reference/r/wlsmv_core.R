# lavaan 0.6.14 references for the first slice of ordinal CFA (WLSMV, delta
# parameterization): sample thresholds and polychorics, NACOV (Gamma), estimates with robust
# SEs and the scaled-shifted test.
# Run from tests/reference:  Rscript r/wlsmv_core.R   -> ref_extra/wlsmv_core.json
# Data: data/bfi.csv (= psychTools::bfi, row names dropped), raw codes (no reverse keying),
# items A1-A5, C1-C5, listwise deletion (lavaan's default).
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
dat <- utils::read.csv("data/bfi.csv")
items <- c(paste0("A", 1:5), paste0("C", 1:5))
stopifnot(isTRUE(all.equal(unname(as.matrix(dat[, items])),
                           unname(as.matrix(psychTools::bfi[, items])))))
mod <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
mat <- function(m) { m <- unclass(m); attr(m, "class") <- NULL; as.data.frame(m) }
pe_list <- function(pe, cols) {
  key <- paste0(pe$lhs, pe$op, pe$rhs)
  setNames(lapply(seq_len(nrow(pe)), function(i) as.list(pe[i, cols])), key)
}

fit <- cfa(mod, data = dat[, items], ordered = TRUE, estimator = "WLSMV")
# runtime of the whole fit (sample statistics + NACOV + estimation + test), median of 5
times <- replicate(5, system.time(
  cfa(mod, data = dat[, items], ordered = TRUE, estimator = "WLSMV"))[["elapsed"]])
ss <- lavInspect(fit, "sampstat")
gamma <- lavInspect(fit, "gamma")
fm <- fitMeasures(fit, c("npar", "fmin", "chisq", "df", "pvalue", "chisq.scaled",
                         "df.scaled", "pvalue.scaled", "chisq.scaling.factor"))
ts <- lavInspect(fit, "test")
checks <- list(list(
  id = "bfi.AC.wlsmv",
  call = paste0("cfa(mod, data = dat[, c(A1..A5, C1..C5)], ordered = TRUE, estimator = 'WLSMV')",
                "  # delta parameterization, listwise, robust.sem SEs, scaled.shifted test"),
  model = mod,
  values = list(
    nobs = lavInspect(fit, "nobs"),
    parameterEstimates = pe_list(parameterEstimates(fit), c("est", "se")),
    fitMeasures = as.list(fm),
    shift_parameter = ts$scaled.shifted$shift.parameter,
    trace_UGamma = ts$scaled.shifted$trace.UGamma,
    trace_UGamma2 = ts$scaled.shifted$trace.UGamma2,
    gamma_names = colnames(gamma),
    gamma = unname(unclass(gamma)),
    sampstat_th = as.list(ss$th),
    sampstat_cor = mat(ss$cov),
    wls_obs = unname(lavInspect(fit, "wls.obs")),
    runtime_seconds = median(times)
  )))

# unequal numbers of categories (2, 3, 4 and 6) and a residual covariance
dat2 <- dat[, items]
dat2$A1 <- c(1, 1, 1, 2, 2, 2)[dat2$A1]
dat2$A2 <- c(1, 1, 1, 2, 2, 3)[dat2$A2]
dat2$C1 <- c(1, 1, 2, 3, 4, 4)[dat2$C1]
mod2 <- paste(mod, "C4 ~~ C5", sep = "\n")
fit2 <- cfa(mod2, data = dat2, ordered = TRUE, estimator = "WLSMV")
gamma2 <- lavInspect(fit2, "gamma")
ts2 <- lavInspect(fit2, "test")
checks[[length(checks) + 1]] <- list(
  id = "bfi.AC.wlsmv.collapsed",
  call = paste0("cfa(mod2, data = dat2, ordered = TRUE, estimator = 'WLSMV')  # dat2: A1 ",
                "recoded c(1,1,1,2,2,2)[A1], A2 c(1,1,1,2,2,3)[A2], C1 c(1,1,2,3,4,4)[C1]; ",
                "mod2 = mod + 'C4 ~~ C5'"),
  model = mod2,
  values = list(
    nobs = lavInspect(fit2, "nobs"),
    parameterEstimates = pe_list(parameterEstimates(fit2), c("est", "se")),
    fitMeasures = as.list(fitMeasures(fit2, c("npar", "fmin", "chisq", "df", "pvalue",
                                              "chisq.scaled", "df.scaled", "pvalue.scaled",
                                              "chisq.scaling.factor"))),
    shift_parameter = ts2$scaled.shifted$shift.parameter,
    gamma_names = colnames(gamma2),
    gamma = unname(unclass(gamma2)),
    wls_obs = unname(lavInspect(fit2, "wls.obs"))
  ))

out <- list(dataset = "bfi", generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE,
                  matrix = "rowmajor"),
           "ref_extra/wlsmv_core.json")
