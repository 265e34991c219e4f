# Extra R references for issue 4 (EFA rotations and methods the shared set lacks, Schmid-Leiman,
# matrix input, and polychoric with unobserved categories).
# Run from tests/reference/:  Rscript r/efa_extra.R   -> ref_extra/efa_extra.json
suppressPackageStartupMessages({library(psych); library(GPArotation); library(lavaan); library(jsonlite)})
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
bfi <- utils::read.csv("data/bfi.csv")
hs9 <- paste0("x", 1:9)
bfi25 <- names(bfi)[1:25]

mat <- function(m) { m <- as.matrix(m); out <- list()
  for (j in seq_len(ncol(m))) { col <- list(); for (i in seq_len(nrow(m))) col[[rownames(m)[i]]] <- m[i, j]
    out[[colnames(m)[j]]] <- col }
  out }
vec <- function(v, nm = names(v)) { force(nm); v <- as.numeric(v); if (is.null(nm)) nm <- as.character(seq_along(v))
  setNames(as.list(v), nm) }
fa_values <- function(f) {
  L <- unclass(f$loadings)
  out <- list(loadings = mat(L), communality = vec(f$communality), uniquenesses = vec(f$uniquenesses),
    e.values = vec(f$e.values, NULL), values = vec(f$values, NULL), Vaccounted = mat(t(f$Vaccounted)),
    objective = f$objective, STATISTIC = f$STATISTIC, dof = f$dof, PVAL = f$PVAL, chi = f$chi,
    rms = f$rms, crms = f$crms, TLI = f$TLI, BIC = f$BIC, fit = f$fit, fit.off = f$fit.off,
    n.obs = f$n.obs, RMSEA = as.list(f$RMSEA))
  if (!is.null(f$Phi)) out$Phi <- mat(f$Phi)
  out
}
checks <- list()
add <- function(id, call, options, values, notes = list()) {
  checks[[length(checks) + 1]] <<- list(id = id, call = call, options = options, values = values, notes = notes) }
run_fa <- function(id, data_name, items, nf, fm, rot, extra = "") {
  call <- sprintf('psych::fa(%s[, c(%s)], nfactors = %d, fm = "%s", rotate = "%s"%s)', data_name,
                  paste0('"', items, '"', collapse = ", "), nf, fm, rot, extra)
  f <- eval(parse(text = call))
  add(id, call, list(data = data_name, items = items, nfactors = nf, fm = fm, rotate = rot, extra = extra),
      fa_values(f))
}
run_fa("hs.fa.3f.minres.promax", "hs", hs9, 3, "minres", "promax")
run_fa("hs.fa.3f.minres.geominQ", "hs", hs9, 3, "minres", "geominQ")
run_fa("hs.fa.3f.minres.quartimin", "hs", hs9, 3, "minres", "quartimin")
run_fa("hs.fa.3f.ml.quartimax", "hs", hs9, 3, "ml", "quartimax")
run_fa("hs.fa.3f.ml.geominT", "hs", hs9, 3, "ml", "geominT")
run_fa("hs.fa.3f.uls.none", "hs", hs9, 3, "uls", "none")
run_fa("hs.fa.3f.pa.oblimin", "hs", hs9, 3, "pa", "oblimin")
run_fa("hs.fa.3f.pa.varimax.tight", "hs", hs9, 3, "pa", "varimax", ", min.err = 1e-12, max.iter = 10000")
run_fa("bfi.fa.5f.minres.promax", "bfi", bfi25, 5, "minres", "promax")
run_fa("bfi.fa.5f.minres.geominQ", "bfi", bfi25, 5, "minres", "geominQ")
run_fa("bfi.fa.5f.pa.oblimin", "bfi", bfi25, 5, "pa", "oblimin")
# GPArotation stops at eps = 1e-5; geomin is flat, so converged references as well
run_fa("hs.fa.3f.minres.geominQ.tight", "hs", hs9, 3, "minres", "geominQ", ", eps = 1e-12, maxit = 100000")
run_fa("bfi.fa.5f.minres.geominQ.tight", "bfi", bfi25, 5, "minres", "geominQ", ", eps = 1e-12, maxit = 100000")
run_fa("bfi.fa.5f.pa.oblimin.tight", "bfi", bfi25, 5, "pa", "oblimin", ", min.err = 1e-12, max.iter = 10000")

# matrix input with n.obs
hs_r <- cor(hs[, hs9])
f <- psych::fa(hs_r, nfactors = 3, n.obs = 301, fm = "minres", rotate = "oblimin")
add("hs.fa.3f.matrix", 'psych::fa(cor(hs[, hs9]), nfactors = 3, n.obs = 301, fm = "minres", rotate = "oblimin")',
    list(data = "hs", items = hs9, nfactors = 3, fm = "minres", rotate = "oblimin", input = "correlation matrix", n.obs = 301),
    fa_values(f))

# Schmid-Leiman (psych::schmid), input to omega
for (spec in list(list("hs", hs9, 3), list("bfi", bfi25, 5))) {
  dn <- spec[[1]]; items <- spec[[2]]; nf <- spec[[3]]
  call <- sprintf('psych::schmid(cor(%s[, c(%s)], use = "pairwise"), nfactors = %d, fm = "minres")', dn,
                  paste0('"', items, '"', collapse = ", "), nf)
  s <- eval(parse(text = call))
  add(sprintf("%s.schmid.%df", dn, nf), call, list(data = dn, items = items, nfactors = nf, fm = "minres", rotate = "oblimin"),
      list(sl = mat(s$sl), gloading = vec(s$gloading, NULL), phi = mat(s$phi), oblique = mat(unclass(s$oblique))))
}

# polychoric with unobserved categories (derived from bfi)
d_mid <- bfi[1:800, c("A1", "A2", "A3", "A4", "A5")]
d_mid$A2[d_mid$A2 == 3] <- 4            # A2 never answers 3: a middle category unobserved
d_top <- d_mid
d_top$A4[d_top$A4 == 6] <- 5            # A4 never answers 6: items differ in their range
setup_poly <- 'd_mid <- bfi[1:800, c("A1","A2","A3","A4","A5")]; d_mid$A2[d_mid$A2 == 3] <- 4; d_top <- d_mid; d_top$A4[d_top$A4 == 6] <- 5'
for (nm in c("d_mid", "d_top")) {
  d <- get(nm)
  p <- suppressWarnings(psych::polychoric(d))
  tau <- p$tau; tau[is.infinite(tau)] <- NA
  add(sprintf("polychoric.%s", nm), sprintf("psych::polychoric(%s)", nm),
      list(setup = setup_poly, data = nm, items = names(d), note = "NA thresholds are +-Inf in R"),
      list(rho = mat(p$rho), tau = mat(tau), tau_inf = mat(sign(p$tau) * is.infinite(p$tau))))
  fit <- lavaan::lavCor(as.data.frame(d), ordered = names(d), missing = "pairwise", output = "fit")
  add(sprintf("lavCor.%s", nm), sprintf('lavaan::lavCor(%s, ordered = names(%s), missing = "pairwise", output = "fit")', nm, nm),
      list(setup = setup_poly, data = nm, items = names(d)),
      list(cor = mat(lavInspect(fit, "sampstat")$cov), th = vec(lavInspect(fit, "sampstat")$th, names(lavInspect(fit, "sampstat")$th))))
}

# mixed correlations (psych::mixedCor: Pearson, polychoric, tetrachoric, polyserial, biserial,
# polydi) on bfi columns of every kind; and fa(cor = "mixed")
setup_mixed <- 'mx <- bfi[1:1000, c("A1","A2","A3","C1","gender","age","education")]; mx$C1 <- as.integer(mx$C1 > 3); mx_eq <- mx[, c("A1","A2","A3","C1","gender","age")]'
mx <- bfi[1:1000, c("A1", "A2", "A3", "C1", "gender", "age", "education")]
mx$C1 <- as.integer(mx$C1 > 3)
mx_eq <- mx[, c("A1", "A2", "A3", "C1", "gender", "age")]
for (nm in c("mx", "mx_eq")) {
  d <- get(nm)
  m <- suppressWarnings(psych::mixedCor(d))
  add(sprintf("mixedCor.%s", nm), sprintf("psych::mixedCor(%s)", nm),
      list(setup = setup_mixed, data = nm, items = names(d)), list(rho = mat(m$rho)))
}
f <- suppressWarnings(psych::fa(mx_eq, nfactors = 2, fm = "minres", rotate = "oblimin", cor = "mixed"))
add("mx_eq.fa.2f.mixed", 'psych::fa(mx_eq, nfactors = 2, fm = "minres", rotate = "oblimin", cor = "mixed")',
    list(setup = setup_mixed, data = "mx_eq", items = names(mx_eq), nfactors = 2, fm = "minres", rotate = "oblimin", cor = "mixed"),
    fa_values(f))

out <- list(dataset = "efa_extra", description = "Extra psych/lavaan references for issue 4",
  software = list(R = R.version.string, packages = list(psych = as.character(packageVersion("psych")),
    GPArotation = as.character(packageVersion("GPArotation")), lavaan = as.character(packageVersion("lavaan")))),
  setup = 'hs <- utils::read.csv("data/HolzingerSwineford1939.csv"); bfi <- utils::read.csv("data/bfi.csv")',
  generated = as.character(Sys.Date()), n_checks = length(checks), checks = checks)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = FALSE),
           "ref_extra/efa_extra.json")
cat("wrote", length(checks), "checks\n")
