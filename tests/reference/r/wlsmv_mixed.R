# lavaan 0.6.14 references for ordinal CFA with some continuous indicators (WLSMV, issue 18):
# cfa(model, data, ordered = c(<the ordered items>), estimator = "WLSMV"), the other
# indicators numeric. lavaan's sample statistics (muthen1984): thresholds of the ordered
# items, mean (stored negated in the threshold block) and ML variance of each continuous one,
# polychoric / polyserial (two-step) correlations and Pearson covariances, NACOV from the
# casewise scores.
# Run from tests/reference:  Rscript r/wlsmv_mixed.R   -> ref_extra/wlsmv_mixed.json
# Data: data/bfi.csv (= psychTools::bfi, row names dropped), items A1-A5, C1-C5 with A3 and
# C2 treated as continuous; ref_extra/sample_scored.csv (the sample assessment scored by its
# framework; EVA4 is the mean of three raters), the applied tier's model.
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
mat <- function(m) { m <- unclass(m); attr(m, "class") <- NULL; as.data.frame(m) }
pe_list <- function(pe, cols) {
  key <- paste0(pe$lhs, pe$op, pe$rhs)
  setNames(lapply(seq_len(nrow(pe)), function(i) as.list(pe[i, cols])), key)
}
full <- function(id, call, model, fit) {
  ss <- lavInspect(fit, "sampstat")
  gamma <- lavInspect(fit, "gamma")
  ts <- lavInspect(fit, "test")
  std <- standardizedSolution(fit)
  pe <- parameterEstimates(fit)
  list(id = id, call = call, model = model, values = list(
    nobs = lavInspect(fit, "nobs"),
    ntotal = lavInspect(fit, "ntotal"),
    pe_keys = paste0(pe$lhs, pe$op, pe$rhs),
    parameterEstimates = pe_list(pe, c("est", "se", "z", "pvalue")),
    standardizedSolution = pe_list(std, c("est.std", "se")),
    fitMeasures = as.list(fitMeasures(fit)),
    shift_parameter = if (is.null(ts$scaled.shifted)) NULL else
      ts$scaled.shifted$shift.parameter,
    sampstat_th = as.list(ss$th),
    sampstat_cov = mat(ss$cov),
    sampstat_mean = as.list(ss$mean),
    gamma_names = colnames(gamma),
    gamma = unname(unclass(gamma)),
    wls_obs = unname(lavInspect(fit, "wls.obs"))))
}
checks <- list()
dat <- utils::read.csv("data/bfi.csv")
items <- c(paste0("A", 1:5), paste0("C", 1:5))
mod <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
ord <- setdiff(items, c("A3", "C2"))
d <- dat[, items]
fit <- cfa(mod, data = d, ordered = ord, estimator = "WLSMV")
checks[[1]] <- full("bfi.AC.mixed.wlsmv",
  "cfa(mod, data = bfi[, A1..C5], ordered = setdiff(items, c('A3', 'C2')), estimator = 'WLSMV')",
  mod, fit)
fit <- cfa(mod, data = d, ordered = ord, estimator = "WLSMV", missing = "pairwise")
checks[[2]] <- full("bfi.AC.mixed.wlsmv.pairwise",
  "cfa(mod, data = d, ordered = ord, estimator = 'WLSMV', missing = 'pairwise')", mod, fit)
fit <- cfa(mod, data = d, ordered = ord, estimator = "WLSMV", parameterization = "theta")
checks[[3]] <- full("bfi.AC.mixed.wlsmv.theta",
  "cfa(mod, data = d, ordered = ord, estimator = 'WLSMV', parameterization = 'theta')",
  mod, fit)
fit <- cfa(mod, data = d, ordered = ord, estimator = "DWLS")
checks[[4]] <- full("bfi.AC.mixed.dwls",
  "cfa(mod, data = d, ordered = ord, estimator = 'DWLS')", mod, fit)

x <- utils::read.csv("ref_extra/sample_scored.csv", row.names = 1)
moda <- paste("prompting =~ PRM1 + PRM2 + PRM3 + PRM4 + PRM5",
              "tools =~ TOO1 + TOO2 + TOO3 + TOO4",
              "evaluation =~ EVA1 + EVA2 + EVA3 + EVA4",
              "workflow =~ WRK1 + WRK2 + WRK3 + WRK4", sep = "\n")
ita <- c(paste0("PRM", 1:5), paste0("TOO", 1:4), paste0("EVA", 1:4), paste0("WRK", 1:4))
orda <- setdiff(ita, "EVA4")
fit <- cfa(moda, data = x[, ita], ordered = orda, estimator = "WLSMV")
checks[[5]] <- full("sample.applied.mixed.wlsmv",
  "cfa(fw.to_model(tier = 'applied'), data = sample_scored, ordered = all but EVA4, estimator = 'WLSMV')",
  moda, fit)
fit <- cfa(moda, data = x[, ita], ordered = orda, estimator = "WLSMV", missing = "pairwise")
checks[[6]] <- full("sample.applied.mixed.wlsmv.pairwise",
  "cfa(moda, data = sample_scored, ordered = all but EVA4, estimator = 'WLSMV', missing = 'pairwise')",
  moda, fit)
out <- list(meta = list(lavaan = as.character(packageVersion("lavaan")),
                        R = R.version.string), checks = checks)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = FALSE),
           "ref_extra/wlsmv_mixed.json")
