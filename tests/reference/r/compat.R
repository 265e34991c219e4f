# R references for psychoval.compat (issue 23): the scenarios of factor_analyzer's own tests
# (tests/test_expected_factor_analyzer.py, test_expected_rotator.py and test_factor_analyzer.py
# at EducationalTestingService/factor_analyzer de933d2: method x rotation x number of factors,
# raw data or its correlation matrix, loadings / communalities / uniquenesses / eigenvalues /
# structure / scores; KMO and Bartlett) and of pingouin's test_reliability.py (cronbach_alpha
# pairwise and listwise with Feldt intervals, raphaelvallat/pingouin 14994d6), recomputed with
# psych 2.2.9 on data this repository ships: 500 complete bfi respondents (25 items) and bfi's
# agreeableness items with their missing values. No file of either project is copied (both
# are GPL; psychoval is MIT). factor_analyzer's generate_r_output.r calls
# fa(cor(df), nfactors, n.obs = nrow(df), fm, rotate); so do we, and fa(df, ...) for scores.
# Run from tests/reference/:  Rscript r/compat.R  ->  ref_extra/compat.json
suppressPackageStartupMessages({ library(psych); library(GPArotation); library(jsonlite) })
bfi <- utils::read.csv("data/bfi.csv")
X <- na.omit(bfi[, 1:25])[1:500, ]
rownames(X) <- NULL

checks <- list()
add <- function(id, call, options, values) {
  checks[[length(checks) + 1]] <<- list(id = id, call = call, options = options, values = values)
}
m <- function(x) { x <- unclass(as.matrix(x)); dimnames(x) <- NULL; lapply(seq_len(nrow(x)), function(i) x[i, ]) }
v <- function(x) as.numeric(x)

fa_case <- function(id, nf, fm, rot, scores = FALSE) {
  f <- fa(cor(X), nfactors = nf, n.obs = nrow(X), fm = fm, rotate = rot)
  vals <- list(loadings = m(f$loadings), communalities = v(f$communality),
               uniquenesses = v(f$uniquenesses), values = v(f$values), e_values = v(f$e.values))
  if (!is.null(f$Phi)) { vals$phi <- m(f$Phi); vals$structure <- m(unclass(f$loadings) %*% f$Phi) }
  if (!is.null(f$rot.mat)) vals$rot_mat <- m(f$rot.mat)
  if (scores) {
    g <- fa(X, nfactors = nf, fm = fm, rotate = rot, scores = "regression")
    vals$scores <- m(g$scores[1:50, ])  # the first 50 respondents
    vals$weights <- m(g$weights)
  }
  add(id, sprintf('psych::fa(cor(X), nfactors = %d, n.obs = 500, fm = "%s", rotate = "%s")', nf, fm, rot),
      list(n_factors = nf, fm = fm, rotate = rot), vals)
}
fa_case("fa.minres.none.3", 3, "minres", "none")
fa_case("fa.minres.none.2", 2, "minres", "none", scores = TRUE)
fa_case("fa.minres.varimax.2", 2, "minres", "varimax", scores = TRUE)
fa_case("fa.minres.varimax.3", 3, "minres", "varimax")
fa_case("fa.minres.promax.2", 2, "minres", "promax", scores = TRUE)
fa_case("fa.minres.promax.3", 3, "minres", "promax")
fa_case("fa.ml.none.2", 2, "ml", "none")
fa_case("fa.ml.varimax.3", 3, "ml", "varimax")
fa_case("fa.ml.promax.3", 3, "ml", "promax", scores = TRUE)
fa_case("fa.minres.oblimin.3", 3, "minres", "oblimin")
fa_case("fa.minres.quartimin.3", 3, "minres", "quartimin")
fa_case("fa.minres.quartimax.3", 3, "minres", "quartimax")
fa_case("fa.minres.geominQ.3", 3, "minres", "geominQ")
fa_case("fa.minres.geominT.3", 3, "minres", "geominT")

# factor_analyzer's method="principal": principal components of the standardized data
p <- principal(X, nfactors = 3, rotate = "none")
add("principal.none.3", 'psych::principal(X, nfactors = 3, rotate = "none")', list(n_factors = 3),
    list(loadings = m(p$loadings), communalities = v(p$communality), values = v(p$values)))

# factor_analyzer's sufficiency(n): Lawley-Maxwell's chi-square, psych's STATISTIC / dof / PVAL
for (nf in 2:3) {
  f <- fa(cor(X), nfactors = nf, n.obs = nrow(X), fm = "ml", rotate = "none")
  add(sprintf("sufficiency.ml.%d", nf), sprintf('psych::fa(cor(X), nfactors = %d, n.obs = 500, fm = "ml")', nf),
      list(n_factors = nf), list(statistic = f$STATISTIC, dof = f$dof, p_value = f$PVAL))
}

k <- KMO(X)
add("kmo", "psych::KMO(X)", list(), list(msa = k$MSA, msai = v(k$MSAi)))
b <- cortest.bartlett(cor(X), n = nrow(X))
add("bartlett", "psych::cortest.bartlett(cor(X), n = 500)", list(),
    list(chisq = b$chisq, p_value = b$p.value, df = b$df))

# pingouin's cronbach_alpha: psych::alpha's raw alpha, Feldt interval by psych::alpha.ci with
# n = the rows used (all rows under pairwise, complete rows under listwise)
agree <- bfi[, c("A2", "A3", "A4", "A5")]
alpha_case <- function(id, d, use, conf) {
  a <- psych::alpha(d, use = use, warnings = FALSE)$total$raw_alpha
  n <- if (use == "pairwise") nrow(d) else sum(complete.cases(d))
  ci <- alpha.ci(a, n.obs = n, n.var = ncol(d), p.val = 1 - conf)
  add(id, sprintf('psych::alpha(d, use = "%s"); psych::alpha.ci(alpha, n.obs = %d, n.var = %d, p.val = %g)',
                  use, n, ncol(d), 1 - conf),
      list(use = use, ci = conf, n = n), list(alpha = a, lower = ci$lower.ci, upper = ci$upper.ci))
}
alpha_case("alpha.pairwise", agree, "pairwise", 0.95)
alpha_case("alpha.listwise", agree, "complete.obs", 0.95)
alpha_case("alpha.pairwise.ci90", agree, "pairwise", 0.90)
alpha_case("alpha.complete", X[1:60, c("C1", "C2", "C3", "C4", "C5")], "pairwise", 0.95)

out <- list(meta = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                        GPArotation = as.character(packageVersion("GPArotation")),
                        script = "r/compat.R"),
            checks = checks)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
           "ref_extra/compat.json")
