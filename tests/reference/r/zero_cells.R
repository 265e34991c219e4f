# lavaan 0.6.14 references for the zero-cell correction of the two-step polychoric /
# tetrachoric estimator (lav_bvord_cor_twostep_fit: zero.add = c(0.5, 0),
# zero.keep.margins = TRUE under mimic = "lavaan").
# Run from tests/reference:  Rscript r/zero_cells.R
#   -> ref_extra/zero_cells.csv (the constructed data) and ref_extra/zero_cells.json
# A 2 x 2 table with one empty cell gets 0.5 added to that cell and to its diagonal partner
# and 0.5 subtracted from the other two (margins kept); two empty cells give rho = +-1;
# larger tables are not corrected (zero.add[2] = 0).
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
# the first seed from 20261207 on whose data have empty cells in 2 x 2 tables only: in a
# larger table empty cells are not corrected, and where they make the likelihood increase
# up to |rho| = 1 lavaan returns wherever nlminb stops (not reproducible)
n <- 200
lam <- c(.85, .8, .75, .7, .8, .6, .5, .45)
cuts <- list(1.6, 1.5, -1.7, 1.2, 1.8, 0.3, c(-0.6, 0.6), c(-0.8, 0.5))
seed <- 20261207
repeat {
  set.seed(seed)
  f <- rnorm(n)
  ystar <- sapply(lam, function(l) l * f + sqrt(1 - l^2) * rnorm(n))
  dat <- as.data.frame(sapply(seq_along(lam), function(j)
    findInterval(ystar[, j], cuts[[j]]) + 1L))
  names(dat) <- paste0("y", seq_along(lam))
  bad <- FALSE
  for (a in 1:6) for (b in 7:8) if (any(table(dat[[a]], dat[[b]]) == 0)) bad <- TRUE
  if (any(table(dat$y7, dat$y8) == 0)) bad <- TRUE
  if (!bad) break
  seed <- seed + 1
}
cat("seed", seed, "\n")
utils::write.csv(dat, "ref_extra/zero_cells.csv", row.names = FALSE)
dich <- names(dat)[1:6]
tabs <- list()
for (a in 1:7) for (b in (a + 1):8) {
  t <- table(dat[[a]], dat[[b]])
  if (any(t == 0)) tabs[[length(tabs) + 1]] <- c(names(dat)[a], names(dat)[b], sum(t == 0))
}
mat <- function(m) { m <- unclass(m); attr(m, "class") <- NULL; as.data.frame(m) }
pe_list <- function(pe, cols) {
  key <- paste0(pe$lhs, pe$op, pe$rhs)
  setNames(lapply(seq_len(nrow(pe)), function(i) as.list(pe[i, cols])), key)
}
checks <- list()
fitc <- lavCor(dat, ordered = names(dat), output = "fit")
ss <- lavInspect(fitc, "sampstat")
checks[[1]] <- list(
  id = "zero_cells.lavCor",
  call = "lavCor(dat, ordered = names(dat), output = 'fit')  # y1..y6 dichotomous, y7, y8 3 categories",
  values = list(cor = mat(ss$cov), th = as.list(ss$th), empty_tables = tabs,
                nobs = lavInspect(fitc, "nobs")))
# another amount added (zero.add = c(0.25, 0)); without any correction (zero.add = 0) the
# likelihood of a 2 x 2 table with an empty cell increases up to rho = +-1 and lavaan
# returns wherever nlminb stops (or its start value), which is not reproducible
fit0 <- lavCor(dat, ordered = names(dat), output = "fit", zero.add = c(0.25, 0))
checks[[2]] <- list(
  id = "zero_cells.lavCor.add025",
  call = "lavCor(dat, ordered = names(dat), output = 'fit', zero.add = c(0.25, 0))",
  values = list(cor = mat(lavInspect(fit0, "sampstat")$cov)))
# two empty cells: y9 a copy of y1 (and y10 its reverse) -> rho = 1 (-1), with a warning
dat2 <- dat[, 1:3]
dat2$y9 <- dat2$y1
dat2$y10 <- 3L - dat2$y1
fit2 <- suppressWarnings(lavCor(dat2, ordered = names(dat2), output = "fit"))
checks[[3]] <- list(
  id = "zero_cells.lavCor.two_empty",
  call = "lavCor(dat2, ordered = names(dat2))  # dat2 = dat[, 1:3] + y9 = y1, y10 = 3 - y1",
  values = list(cor = mat(lavInspect(fit2, "sampstat")$cov)))
# a one-factor WLSMV fit on the data (for _ordinal's NACOV once its refusal is lifted)
mod <- "F =~ y1 + y2 + y3 + y4 + y5 + y6 + y7 + y8"
fit <- cfa(mod, data = dat, ordered = TRUE, estimator = "WLSMV")
gamma <- lavInspect(fit, "gamma")
ts <- lavInspect(fit, "test")
checks[[4]] <- list(
  id = "zero_cells.wlsmv",
  call = "cfa(mod, data = dat, ordered = TRUE, estimator = 'WLSMV')",
  model = mod,
  values = list(
    nobs = lavInspect(fit, "nobs"),
    parameterEstimates = pe_list(parameterEstimates(fit), c("est", "se")),
    fitMeasures = as.list(fitMeasures(fit, c("npar", "fmin", "chisq", "df", "pvalue",
                                             "chisq.scaled", "pvalue.scaled",
                                             "chisq.scaling.factor"))),
    shift_parameter = ts$scaled.shifted$shift.parameter,
    gamma_names = colnames(gamma), gamma = unname(unclass(gamma)),
    wls_obs = unname(lavInspect(fit, "wls.obs"))))
out <- list(dataset = "zero_cells", generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE,
                  matrix = "rowmajor"), "ref_extra/zero_cells.json")
print(do.call(rbind, tabs))
print(round(ss$cov, 4))
