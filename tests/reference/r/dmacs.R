# lavaan 0.6.14 parameters for dMACS (Nye & Drasgow 2011) on HolzingerSwineford1939 by school:
# the configural three-factor model (marker loadings 1, latent means 0 in each group, ML,
# listwise), with per group the intercepts (nu), loadings (lambda), latent means (kappa) and
# variances (phi), the item SDs (divisor n - 1) and n. semTools 0.5.6 has no dMACS and the R
# package dmacs is not installed: tests/test_dmacs.py computes dMACS from these parameters
# with the formula written out and compares with pv.dmacs on psychoval's own fit.
# Run from tests/reference:  Rscript r/dmacs.R   -> ref_extra/dmacs.json
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
mod <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
items <- paste0("x", 1:9)
fit <- cfa(mod, data = hs, group = "school")
labels <- lavInspect(fit, "group.label")
est <- lavInspect(fit, "est")
nobs <- lavInspect(fit, "nobs")
groups <- list()
for (g in seq_along(labels)) {
  e <- est[[g]]
  d <- hs[hs$school == labels[g], items]
  lam <- e$lambda
  groups[[labels[g]]] <- list(
    n = nobs[g],
    nu = as.list(setNames(as.numeric(e$nu), rownames(e$nu))),
    lambda = lapply(setNames(seq_len(ncol(lam)), colnames(lam)),
                    function(j) as.list(lam[lam[, j] != 0, j])),
    kappa = as.list(setNames(as.numeric(e$alpha), rownames(e$alpha))),
    phi = as.list(setNames(diag(e$psi), colnames(e$psi))),
    sd = as.list(sapply(d, stats::sd)))
}
out <- list(
  source = "lavaan 0.6.14: cfa(mod, data = HolzingerSwineford1939, group = 'school')",
  model = mod, group_labels = labels, reference = labels[1],
  lavaan_version = as.character(packageVersion("lavaan")), groups = groups)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "ref_extra/dmacs.json")
