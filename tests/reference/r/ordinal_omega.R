# semTools 0.5.6 references for the categorical omega of ordered indicators (Green & Yang
# 2009): compRelSEM(fit) with its defaults obs.var = TRUE, ord.scale = TRUE (semTools'
# omegaCat), and obs.var = FALSE, on the WLSMV fits of tests/reference/r/wlsmv_core.R.
# Run from tests/reference:  Rscript r/ordinal_omega.R   -> ref_extra/ordinal_omega.json
suppressMessages(library(lavaan))
suppressMessages(library(semTools))
suppressMessages(library(jsonlite))
dat <- utils::read.csv("data/bfi.csv")
items <- c(paste0("A", 1:5), paste0("C", 1:5))
mod <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
fit <- cfa(mod, data = dat[, items], ordered = TRUE, estimator = "WLSMV")
dat2 <- dat[, items]
dat2$A1 <- c(1, 1, 1, 2, 2, 2)[dat2$A1]
dat2$A2 <- c(1, 1, 1, 2, 2, 3)[dat2$A2]
dat2$C1 <- c(1, 1, 2, 3, 4, 4)[dat2$C1]
mod2 <- paste(mod, "C4 ~~ C5", sep = "\n")
fit2 <- cfa(mod2, data = dat2, ordered = TRUE, estimator = "WLSMV")
# reverse-keyed items rescored 7 - x (the reference setup's dat_r)
dat3 <- dat[, items]
for (v in c("A1", "C4", "C5")) dat3[[v]] <- 7 - dat3[[v]]
fit3 <- cfa(mod, data = dat3, ordered = TRUE, estimator = "WLSMV")
om <- function(f, ...) as.list(unlist(compRelSEM(f, ...)))
checks <- list(
  list(id = "bfi.AC.wlsmv.omegaCat",
       call = "compRelSEM(cfa(mod, data = dat[, c(A1..A5, C1..C5)], ordered = TRUE, estimator = 'WLSMV'))",
       model = mod,
       values = list(omega = om(fit), omega_fitted = om(fit, obs.var = FALSE),
                     omega_linear = om(fit, ord.scale = FALSE))),
  list(id = "bfi.AC.wlsmv.collapsed.omegaCat",
       call = paste0("compRelSEM(cfa(mod2, data = dat2, ordered = TRUE, estimator = 'WLSMV'))",
                     "  # dat2, mod2 as in wlsmv_core.R (A1, A2, C1 collapsed; C4 ~~ C5)"),
       model = mod2,
       values = list(omega = om(fit2), omega_fitted = om(fit2, obs.var = FALSE),
                     omega_linear = om(fit2, ord.scale = FALSE))),
  list(id = "bfi_r.AC.wlsmv.omegaCat",
       call = paste0("compRelSEM(cfa(mod, data = dat3, ordered = TRUE, estimator = 'WLSMV'))",
                     "  # dat3: A1..A5, C1..C5 with A1, C4, C5 rescored 7 - x"),
       model = mod,
       values = list(omega = om(fit3), omega_fitted = om(fit3, obs.var = FALSE),
                     omega_linear = om(fit3, ord.scale = FALSE))))
out <- list(dataset = "bfi", generated = as.character(Sys.Date()),
            software = list(R = R.version.string,
                            lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/ordinal_omega.json")
str(checks[[3]]$values)
