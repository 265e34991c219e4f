# References for pv.classification (issue 20, section 2) from the R packages cacIRT 1.4
# (Lee 2010 and Rudner 2001/2005 indices) and betafunctions 1.9.0 (Hanson & Brennan 1990,
# Livingston & Lewis 1995). Neither is packaged by Debian: with the packages installed this
# script library()s them; otherwise it sources their R files from the directories named by
# CACIRT_SRC and BETAFUNCTIONS_SRC (the R/ folders of CRAN's GitHub mirror cran/cacIRT and of
# hthaa/betafunctions at its 1.9.0 release commit 2c86f5f), which is how ref_extra/decisions.json
# was made (R 4.2.2).
# Run from tests/reference:
#   CACIRT_SRC=... BETAFUNCTIONS_SRC=... Rscript r/decisions.R   -> ref_extra/decisions.json
suppressMessages(library(jsonlite))
load_pkg <- function(pkg, env) {
  if (requireNamespace(pkg, quietly = TRUE)) {
    suppressMessages(library(pkg, character.only = TRUE))
    return(as.character(utils::packageVersion(pkg)))
  }
  for (f in list.files(Sys.getenv(env), "\\.[Rr]$", full.names = TRUE)) source(f)
  paste("sources in", Sys.getenv(env))
}
versions <- list(cacIRT = load_pkg("cacIRT", "CACIRT_SRC"),
                 betafunctions = load_pkg("betafunctions", "BETAFUNCTIONS_SRC"),
                 R = R.version.string)
marg <- function(m) lapply(seq_len(nrow(m)), function(i) list(
  row = rownames(m)[i], accuracy = unname(m[i, "Accuracy"]),
  consistency = unname(m[i, "Consistency"])))
out <- list(versions = versions)

# 1. cacIRT's documented examples (?class.Lee, ?class.Rud), deterministic D-method forms:
# four 1PL items, 40 equally spaced quadrature points on [-4, 4] with normal weights.
params <- matrix(c(1, 1, 1, 1, -2, 1, 0, 1, 0, 0, 0, 0), 4, 3)
quad <- normal.qu(40)
out$lee_example <- list(
  a = params[, 1], b = params[, 2], c = params[, 3], D = 1, cuts = c(2, 3),
  nodes = quad[[1]], weights = quad[[2]],
  marginal = marg(class.Lee(c(2, 3), params, quadrature = quad, D = 1)$Marginal))
# class.Rud with quadrature computes the SEM with SEM()'s default D = 1.7 whatever D says
out$rudner_example <- list(
  cuts = c(-0.5, 1.5), nodes = quad[[1]], weights = quad[[2]],
  se = SEM(params, quad[[1]]),
  marginal = marg(class.Rud(c(-0.5, 1.5), params, quadrature = quad, D = 1)$Marginal))

# 2. Lee on a 3PL test: 12 items, 81 quadrature points, D = 1.7, cuts 4, 7.5, 10
ip <- cbind(seq(0.6, 1.8, length.out = 12), seq(-1.5, 1.5, length.out = 12),
            rep(c(0, 0.2), 6))
q81 <- normal.qu(81)
out$lee_3pl <- list(
  a = ip[, 1], b = ip[, 2], c = ip[, 3], D = 1.7, cuts = c(4, 7.5, 10),
  nodes = q81[[1]], weights = q81[[2]],
  marginal = marg(class.Lee(c(4, 7.5, 10), ip, quadrature = q81, D = 1.7)$Marginal))

# 3. Lee for polytomous items (Lee.poly.P, P method: equal weights over the given abilities):
# five graded-response items with four categories, D = 1, abilities on [-2, 2]
theta <- seq(-2, 2, length.out = 41)
a <- c(0.8, 1.0, 1.2, 1.4, 0.9)
thr <- rbind(c(-1.2, 0.0, 1.1), c(-0.8, 0.3, 1.4), c(-1.5, -0.4, 0.6),
             c(-0.6, 0.5, 1.2), c(-1.0, 0.1, 0.9))
Pij <- array(NA, dim = c(length(theta), 4, 5))
for (j in 1:5) {
  star <- cbind(1, sapply(1:3, function(k) 1 / (1 + exp(-a[j] * (theta - thr[j, k])))), 0)
  Pij[, , j] <- star[, 1:4] - star[, 2:5]
}
out$lee_graded <- list(
  a = a, thresholds = thr, D = 1, cuts = c(5, 10), theta = theta,
  marginal = marg(Lee.poly.P(c(5, 10), Pij, theta)$Marginal))

# 4. betafunctions' documented HB.CA example (?HB.CA): 1,000 people, 20 items, cut 10,
# reliability = Cronbach's alpha of the items
set.seed(1234)
p.success <- rBeta.4P(1000, 0.15, 0.85, 6, 4)
rawdata <- matrix(nrow = 1000, ncol = 20)
for (i in 1:20) rawdata[, i] <- rbinom(1000, 1, p.success)
x <- rowSums(rawdata)
rel <- cba(rawdata)
hb <- HB.CA(x = x, reliability = rel, cut = 10, testlength = 20)
out$hanson_brennan <- list(
  scores = x, reliability = rel, cut = 10, n_items = 20,
  parameters = hb$parameters[c("alpha", "beta", "l", "u", "k")],
  accuracy = hb$classification.accuracy$Accuracy,
  consistency = hb$classification.consistency$p,
  kappa = hb$classification.consistency$Kappa)

# 5. betafunctions' LL.CA.MC on the documented example's kind of data (?LL.CA.MC: 1,000 people,
# 100 items, five cuts), the cuts placed where n x cut / 100 is an integer for the rounded
# effective length n, so that LL.CA.MC's rounding of the observed cut and psychoval's "lowest
# score at or above the cut's proportion" agree
set.seed(1234)
p.success <- rBeta.4P(1000, 0.1, 0.95, 5, 3)
rawdata <- matrix(nrow = 1000, ncol = 100)
for (i in 1:100) rawdata[, i] <- rbinom(1000, 1, p.success)
x <- rowSums(rawdata)
rel <- cba(rawdata)
n <- round(ETL(mean(x), var(x), 0, 100, rel))
cuts <- 100 * round(c(0.5, 0.6, 0.7, 0.8, 0.9) * n) / n
ll <- LL.CA.MC(x, rel, cuts, min = 0, max = 100, modelfit = NULL)
spec_acc <- sapply(ll$accuracy$specific, function(s) s$statistics$Sensitivity)
spec_con <- sapply(ll$consistency$specific, function(s) s$statistics$p)
out$livingston_lewis <- list(
  scores = x, reliability = rel, cuts = cuts, score_range = c(0, 100),
  etl = ETL(mean(x), var(x), 0, 100, rel), etl_rounded = n,
  parameters = ll$parameters[c("alpha", "beta", "l", "u")],
  accuracy = ll$accuracy$overall$accuracy,
  consistency = ll$consistency$overall$statistics$p,
  kappa = ll$consistency$overall$statistics$Kappa,
  level_accuracy = unname(spec_acc), level_consistency = unname(spec_con))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "ref_extra/decisions.json")
