# Extra psych::omega references for psychoval's omega (issue 5, part 3).
# Run from tests/reference:  Rscript r/omega_extra.R   (psych 2.2.9, GPArotation)
#   omega.2f.*     two group factors: psych fixes the general loadings by `option`
#                  (HS x1..x6, a visual and a textual factor)
#   omega.boot     omega(n.iter = 200): random, compared for plausibility only
#   omega.cor      a correlation-matrix input with n.obs (gstats need n.obs)
#   omega.bfi.poly ordinal omega: polychoric correlations of 15 bfi items, 3 factors
suppressPackageStartupMessages({library(psych); library(jsonlite)})
hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
bfi <- utils::read.csv("data/bfi.csv")
pick <- function(o) {
  list(omega_h = o$omega_h, alpha = o$alpha, omega.tot = o$omega.tot, omega.lim = o$omega.lim,
       G6 = o$G6, ECV = o$ECV, omega.group = o$omega.group,
       schmid_sl = as.data.frame(unclass(o$schmid$sl)), key = as.list(setNames(o$key,
       rownames(o$schmid$sl))),
       gstats = list(chisq = o$gstats$STATISTIC, dof = o$gstats$dof, rms = o$gstats$rms,
                     RMSEA = as.list(o$gstats$RMSEA)))
}
checks <- list()
six <- paste0("x", 1:6)
for (opt in c("equal", "first", "second")) {
  o <- omega(hs[, six], nfactors = 2, option = opt, plot = FALSE)
  checks[[length(checks) + 1]] <- list(
    id = paste0("omega.2f.", opt), analysis = "psych::omega",
    call = sprintf("omega(hs[, paste0('x', 1:6)], nfactors = 2, option = '%s', plot = FALSE)", opt),
    options = list(items = six, nfactors = 2, fm = "minres", option = opt),
    values = pick(o))
}
nine <- paste0("x", 1:9)
set.seed(20261126)
ob <- omega(hs[, nine], nfactors = 3, n.iter = 200, plot = FALSE)
checks[[length(checks) + 1]] <- list(
  id = "omega.boot", analysis = "psych::omega (random)",
  call = "set.seed(20261126); omega(hs[, nine], nfactors = 3, n.iter = 200, plot = FALSE)",
  options = list(items = nine, nfactors = 3, n_iter = 200, p = 0.05),
  values = list(omega_h = ob$om$omega_h, means = as.list(ob$ci$means), sds = as.list(ob$ci$sds),
                ci = list(lower = as.list(setNames(ob$ci$ci$lower, rownames(ob$ci$ci))),
                          upper = as.list(setNames(ob$ci$ci$upper, rownames(ob$ci$ci))))))
R <- cor(hs[, nine])
oc <- omega(R, nfactors = 3, n.obs = nrow(hs), plot = FALSE)
checks[[length(checks) + 1]] <- list(
  id = "omega.cor", analysis = "psych::omega",
  call = "omega(cor(hs[, nine]), nfactors = 3, n.obs = 301, plot = FALSE)",
  options = list(items = nine, nfactors = 3, n_obs = nrow(hs)), values = pick(oc))
b15 <- c("A1", "A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "C5", "E1", "E2", "E3", "E4", "E5")
op <- omega(bfi[, b15], nfactors = 3, poly = TRUE, plot = FALSE)
checks[[length(checks) + 1]] <- list(
  id = "omega.bfi.poly", analysis = "psych::omega",
  call = "omega(bfi[, b15], nfactors = 3, poly = TRUE, plot = FALSE)",
  options = list(items = b15, nfactors = 3, poly = TRUE), values = pick(op))
out <- list(dataset = "HolzingerSwineford1939+bfi",
            description = "extra psych::omega references (2 group factors, bootstrap, matrix input, polychoric)",
            software = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            GPArotation = as.character(packageVersion("GPArotation"))),
            data_file = c("data/HolzingerSwineford1939.csv", "data/bfi.csv"),
            setup = "see tests/reference/r/omega_extra.R", generated = format(Sys.time(), tz = "UTC"),
            n_checks = length(checks), checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE),
           "ref_extra/omega_extra.json")
