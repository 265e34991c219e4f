# lavaan 0.6.14 references for missing data and empty cells in ordinal CFA (WLSMV, delta
# parameterization): missing = "pairwise" (thresholds from each item's answers, polychorics
# from each pair's complete rows, NACOV from scores that are NA - i.e. zero - for missing
# responses; rows with every item missing are dropped as "empty cases") and 2 x 2 tables of
# two dichotomous items with one empty cell (zero.add = 0.5 keeping the margins) or two
# (rho = +-1).
# Run from tests/reference:  Rscript r/wlsmv_missing.R   -> ref_extra/wlsmv_missing.json
# Data: data/bfi.csv (= psychTools::bfi, row names dropped), raw codes, items A1-A5, C1-C5
# with their natural missing values; ref_extra/zero_cells.csv (made by r/zero_cells.R:
# y1-y6 dichotomous, y7, y8 three categories, N = 200, four 2 x 2 tables with one empty cell).
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
full <- function(id, call, model, fit, warnings = character(0)) {
  ss <- lavInspect(fit, "sampstat")
  gamma <- lavInspect(fit, "gamma")
  ts <- lavInspect(fit, "test")
  list(id = id, call = call, model = model, values = list(
    nobs = lavInspect(fit, "nobs"),
    ntotal = lavInspect(fit, "ntotal"),
    empty_idx = lavInspect(fit, "empty.idx"),
    parameterEstimates = pe_list(parameterEstimates(fit), c("est", "se", "z", "pvalue")),
    fitMeasures = as.list(fitMeasures(fit)),
    shift_parameter = if (is.null(ts$scaled.shifted)) NULL else
      ts$scaled.shifted$shift.parameter,
    sampstat_th = as.list(ss$th),
    sampstat_cor = mat(ss$cov),
    gamma_names = colnames(gamma),
    gamma = unname(unclass(gamma)),
    wls_obs = unname(lavInspect(fit, "wls.obs")),
    warnings = warnings))
}
checks <- list()

# 1. bfi, natural missing values, missing = "pairwise"
d <- dat[, items]
fit <- cfa(mod, data = d, ordered = TRUE, estimator = "WLSMV", missing = "pairwise")
checks[[1]] <- full("bfi.AC.wlsmv.pairwise",
  paste0("cfa(mod, data = dat[, c(A1..A5, C1..C5)], ordered = TRUE, estimator = 'WLSMV', ",
         "missing = 'pairwise')  # 2800 rows, 2632 complete"), mod, fit)
# the same with DWLS (standard SEs and test)
fitd <- cfa(mod, data = d, ordered = TRUE, estimator = "DWLS", missing = "pairwise")
checks[[2]] <- list(id = "bfi.AC.dwls.pairwise",
  call = "cfa(mod, data = d, ordered = TRUE, estimator = 'DWLS', missing = 'pairwise')",
  model = mod, values = list(
    nobs = lavInspect(fitd, "nobs"),
    parameterEstimates = pe_list(parameterEstimates(fitd), c("est", "se")),
    fitMeasures = as.list(fitMeasures(fitd))))
# rows with every model item missing are "empty cases": dropped, nobs counts the others
d3 <- d
d3[c(5, 100, 2000), ] <- NA
fit3 <- withCallingHandlers(
  cfa(mod, data = d3, ordered = TRUE, estimator = "WLSMV", missing = "pairwise"),
  warning = function(w) invokeRestart("muffleWarning"))
checks[[3]] <- list(id = "bfi.AC.wlsmv.pairwise.empty_rows",
  call = paste0("cfa(mod, data = d3, ordered = TRUE, estimator = 'WLSMV', missing = 'pairwise')",
                "  # d3 = d with rows 5, 100, 2000 (1-based) set to NA"),
  model = mod, values = list(
    nobs = lavInspect(fit3, "nobs"), ntotal = lavInspect(fit3, "ntotal"),
    empty_idx = lavInspect(fit3, "empty.idx"),
    parameterEstimates = pe_list(parameterEstimates(fit3), c("est", "se")),
    fitMeasures = as.list(fitMeasures(fit3, c("npar", "chisq", "df", "chisq.scaled",
                                              "cfi.scaled", "rmsea.scaled", "cfi.robust",
                                              "rmsea.robust", "srmr"))),
    gamma = unname(unclass(lavInspect(fit3, "gamma")))))

# 2. one empty cell in four 2 x 2 tables (zero.add = 0.5, margins kept)
zc <- utils::read.csv("ref_extra/zero_cells.csv")
modz <- "F =~ y1 + y2 + y3 + y4 + y5 + y6 + y7 + y8"
fitz <- cfa(modz, data = zc, ordered = TRUE, estimator = "WLSMV")
checks[[4]] <- full("zero_cells.wlsmv.one_empty",
  "cfa(modz, data = zero_cells, ordered = TRUE, estimator = 'WLSMV')", modz, fitz)
# the same data with missing values (every 7th row of y2, every 11th of y7 and every 13th
# of y3 missing), missing = "pairwise": the pairs' tables shrink, some keep an empty cell
zm <- zc
zm$y2[seq(7, nrow(zm), by = 7)] <- NA
zm$y7[seq(11, nrow(zm), by = 11)] <- NA
zm$y3[seq(13, nrow(zm), by = 13)] <- NA
fitzm <- cfa(modz, data = zm, ordered = TRUE, estimator = "WLSMV", missing = "pairwise")
empty_pairs <- list()
for (a in 1:5) for (b in (a + 1):6) {
  t <- table(zm[[a]], zm[[b]])
  if (any(t == 0)) empty_pairs[[length(empty_pairs) + 1]] <- c(names(zm)[a], names(zm)[b])
}
checks[[5]] <- full("zero_cells.wlsmv.one_empty.pairwise",
  paste0("cfa(modz, data = zm, ordered = TRUE, estimator = 'WLSMV', missing = 'pairwise')",
         "  # zm = zero_cells with y2[seq(7, 200, 7)], y7[seq(11, 200, 11)], ",
         "y3[seq(13, 200, 13)] set to NA"), modz, fitzm)
checks[[5]]$values$empty_tables <- empty_pairs

# 3. two empty cells: y9 a copy of y1 -> rho(y1, y9) = 1; lavaan fits it with warnings
z2 <- zc
z2$y9 <- z2$y1
mod2 <- "F =~ y1 + y2 + y3 + y4 + y5 + y6 + y7 + y8 + y9"
w2 <- character(0)
fit2 <- withCallingHandlers(
  cfa(mod2, data = z2, ordered = TRUE, estimator = "WLSMV"),
  warning = function(w) { w2 <<- c(w2, conditionMessage(w)); invokeRestart("muffleWarning") })
checks[[6]] <- full("zero_cells.wlsmv.two_empty",
  "cfa(mod2, data = z2, ordered = TRUE, estimator = 'WLSMV')  # z2 = zero_cells + y9 = y1",
  mod2, fit2, warnings = w2)

out <- list(dataset = "bfi, zero_cells", generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE,
                  matrix = "rowmajor"),
           "ref_extra/wlsmv_missing.json")
