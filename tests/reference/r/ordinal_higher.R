# semTools 0.5.6 compRelSEM / AVE of a second-order WLSMV fit (lavaan 0.6.14): the omega of
# each first-order factor uses its total (model-implied) variance, lavInspect(fit, "cov.lv"),
# not its disturbance. compRelSEM(fit, higher = "foundation") fails in semTools 0.5.6 for
# categorical indicators ("non-conformable arguments" in omegaCat), so it has no reference.
# Data: ref_extra/second_order_ordinal.csv, the first 1,500 complete rows of the foundation
# tier of second_order.py --n 50000 --seed 7 (the workplace's case generator), 5-point items.
# Run from tests/reference:  Rscript r/ordinal_higher.R   -> ref_extra/ordinal_higher.json
suppressMessages(library(lavaan))
suppressMessages(library(semTools))
suppressMessages(library(jsonlite))
dat <- utils::read.csv("ref_extra/second_order_ordinal.csv")
first <- paste0("F", 1:4, " =~ ", sapply(1:4, function(f) paste0("F", f, "_", 1:5, collapse = " + ")))
mod <- paste(c(first, "foundation =~ F1 + F2 + F3 + F4"), collapse = "\n")
fit <- cfa(mod, data = dat, ordered = TRUE, estimator = "WLSMV")
fit1 <- cfa(paste(first, collapse = "\n"), data = dat, ordered = TRUE, estimator = "WLSMV")
om <- function(f, ...) as.list(unlist(compRelSEM(f, ...)))
checks <- list(
  list(id = "second_order.wlsmv", call = "compRelSEM(fit); AVE(fit)", model = mod,
       values = list(omega = om(fit), omega_fitted = om(fit, obs.var = FALSE),
                     ave = as.list(unlist(AVE(fit))),
                     chisq_scaled = unname(fitMeasures(fit, "chisq.scaled")))),
  list(id = "correlated.wlsmv", call = "compRelSEM(fit1)", model = paste(first, collapse = "\n"),
       values = list(omega = om(fit1)))
)
out <- list(software = list(R = R.version.string,
                            lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))),
            checks = checks)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "ref_extra/ordinal_higher.json")
