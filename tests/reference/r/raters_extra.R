# Extra R references for rater agreement (issue 6): ICC with missing ratings (psych's default
# lmer = TRUE, plus tightly converged lme4 REML components), and cohen.kappa with linear weights,
# missing ratings and unused levels.
#
# Run from tests/reference:  Rscript r/raters_extra.R  ->  ref_extra/raters_extra.json
# R 4.2.2, psych 2.2.9, lme4 1.1.31, jsonlite.
suppressPackageStartupMessages({ library(psych); library(lme4); library(jsonlite) })

dat <- utils::read.csv("data/rubric_ratings.csv")
raters <- c("rater1", "rater2", "rater3", "rater4")
x <- dat[, raters]

# 1. rubric_ratings with ratings removed by a fixed rule (no candidate loses more than 2):
#    candidate i (1-based) loses rater ((i %/% 5) %% 4) + 1 when i %% 5 == 0, and rater
#    ((i %/% 7) %% 4) + 1 when i %% 7 == 0 (if that is a different rater).
miss <- x
for (i in seq_len(nrow(miss))) {
  if (i %% 5 == 0) miss[i, ((i %/% 5) %% 4) + 1] <- NA
  if (i %% 7 == 0) miss[i, ((i %/% 7) %% 4) + 1] <- NA
}

# 2. unbalanced simulated design: 40 candidates, 6 raters, each candidate scored by 2 to 4 raters
set.seed(20261126)
n2 <- 40; k2 <- 6
true2 <- rnorm(n2)
bias2 <- c(-0.3, 0, 0.2, 0.4, -0.1, 0.1)
sim2 <- sapply(seq_len(k2), function(j) round(5 + 1.5 * true2 + bias2[j] + rnorm(n2, 0, 0.8), 1))
colnames(sim2) <- paste0("r", 1:k2)
for (i in seq_len(n2)) {
  m <- sample(2:4, 1)
  drop <- sample(seq_len(k2), k2 - m)
  sim2[i, drop] <- NA
}
sim2 <- as.data.frame(sim2)

icc_values <- function(res) {
  r <- res$results
  tab <- function(col) setNames(as.list(r[[col]]), r$type)
  st <- res$stats
  list(
    results = list(ICC = tab("ICC"), F = tab("F"), df1 = tab("df1"), df2 = tab("df2"),
                   p = tab("p"), `lower bound` = tab("lower bound"),
                   `upper bound` = tab("upper bound")),
    MSW = res$MSW, n.obs = res$n.obs, n.judge = res$n.judge,
    stats = list(df = as.list(st["df", ]), SumSq = as.list(st["SumSq", ]),
                 MS = as.list(st["MS", ]), F = as.list(st["F", ]), p = as.list(st["p", ])),
    lme = list(variance = as.list(setNames(res$lme$variance, rownames(res$lme))))
  )
}

tight_reml <- function(x) {
  x.df <- data.frame(stack(x), id = rep(paste0("S", seq_len(nrow(x))), ncol(x)))
  colnames(x.df) <- c("values", "items", "id")
  ctrl <- lmerControl(optimizer = "nloptwrap",
                      optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-16, xtol_rel = 1e-14,
                                     maxeval = 100000))
  fit <- lmer(values ~ 1 + (1 | id) + (1 | items), data = x.df, na.action = na.omit,
              control = ctrl, REML = TRUE)
  vc <- VarCorr(fit)
  list(target = vc$id[1, 1], rater = vc$items[1, 1], residual = attr(vc, "sc")^2,
       REMLcrit = as.numeric(REMLcrit(fit)), n_obs = nobs(fit))
}

kappa_values <- function(ck) {
  list(kappa = ck$kappa, weighted.kappa = ck$weighted.kappa, var.kappa = ck$var.kappa,
       var.weighted = ck$var.weighted, n.obs = ck$n.obs,
       confid = list(`unweighted kappa` = as.list(ck$confid[1, ]),
                     `weighted kappa` = as.list(ck$confid[2, ])))
}

rows_of <- function(df) lapply(seq_len(nrow(df)), function(i) unname(unlist(df[i, ])))

checks <- list()
add <- function(...) checks[[length(checks) + 1]] <<- list(...)

add(id = "ICC.lmer.missing", analysis = "psych::ICC",
    call = "psych::ICC(miss, lmer = TRUE)",
    options = list(columns = raters, lmer = TRUE, alpha = 0.05, data = rows_of(miss),
                   rule = "rubric_ratings; candidate i loses rater ((i %/% 5) %% 4) + 1 if i %% 5 == 0 and rater ((i %/% 7) %% 4) + 1 if i %% 7 == 0"),
    values = icc_values(psych::ICC(miss, lmer = TRUE)),
    notes = list("lme4 default convergence (as psych calls it); see reml.tight.missing for the converged optimum"))
add(id = "reml.tight.missing", analysis = "lme4::lmer (tight nloptwrap tolerances)",
    call = "tight_reml(miss)", options = list(columns = raters, data = rows_of(miss)),
    values = tight_reml(miss), notes = list())
add(id = "ICC.lmer.unbalanced", analysis = "psych::ICC",
    call = "psych::ICC(sim2, lmer = TRUE)",
    options = list(columns = colnames(sim2), lmer = TRUE, alpha = 0.05, data = rows_of(sim2)),
    values = icc_values(psych::ICC(sim2, lmer = TRUE)), notes = list())
add(id = "reml.tight.unbalanced", analysis = "lme4::lmer (tight nloptwrap tolerances)",
    call = "tight_reml(sim2)", options = list(columns = colnames(sim2), data = rows_of(sim2)),
    values = tight_reml(sim2), notes = list())
add(id = "ICC.lmer.missing.alpha10", analysis = "psych::ICC",
    call = "psych::ICC(miss, lmer = TRUE, alpha = 0.10)",
    options = list(columns = raters, lmer = TRUE, alpha = 0.10, data = rows_of(miss)),
    values = icc_values(psych::ICC(miss, lmer = TRUE, alpha = 0.10)), notes = list())

# 3. candidates rated once: rubric_ratings with candidates 3, 17 and 42 keeping only rater2
once <- x
once[c(3, 17, 42), c("rater1", "rater3", "rater4")] <- NA
add(id = "ICC.lmer.rated_once", analysis = "psych::ICC",
    call = "psych::ICC(once, lmer = TRUE)",
    options = list(columns = raters, lmer = TRUE, alpha = 0.05, data = rows_of(once)),
    values = icc_values(psych::ICC(once, lmer = TRUE)), notes = list())
add(id = "reml.tight.rated_once", analysis = "lme4::lmer (tight nloptwrap tolerances)",
    call = "tight_reml(once)", options = list(columns = raters, data = rows_of(once)),
    values = tight_reml(once), notes = list())

L <- 4
wlin <- 1 - abs(outer(1:L, 1:L, "-")) / (L - 1)
add(id = "kappa.linear.rater1_rater3", analysis = "psych::cohen.kappa",
    call = "psych::cohen.kappa(x[, c('rater1', 'rater3')], w = wlin, levels = 1:4)",
    options = list(raters = c("rater1", "rater3"), levels = 1:4, weights = "linear"),
    values = kappa_values(psych::cohen.kappa(x[, c("rater1", "rater3")], w = wlin, levels = 1:4)),
    notes = list())
add(id = "kappa.missing.rater2_rater4", analysis = "psych::cohen.kappa",
    call = "psych::cohen.kappa(miss[, c('rater2', 'rater4')], levels = 1:4)",
    options = list(raters = c("rater2", "rater4"), levels = 1:4, data = rows_of(miss)),
    values = kappa_values(psych::cohen.kappa(miss[, c("rater2", "rater4")], levels = 1:4)),
    notes = list("NA pairs are left out by table()"))
add(id = "kappa.levels5.rater1_rater4", analysis = "psych::cohen.kappa",
    call = "psych::cohen.kappa(x[, c('rater1', 'rater4')], levels = 1:5, alpha = 0.1)",
    options = list(raters = c("rater1", "rater4"), levels = 1:5, alpha = 0.1),
    values = kappa_values(psych::cohen.kappa(x[, c("rater1", "rater4")], levels = 1:5, alpha = 0.1)),
    notes = list("level 5 is never used"))

pk <- psych::cohen.kappa(miss, levels = 1:4)
add(id = "kappa.all_pairs.missing", analysis = "psych::cohen.kappa (all pairs, pairwise NA removal)",
    call = "psych::cohen.kappa(miss, levels = 1:4)",
    options = list(raters = raters, levels = 1:4, data = rows_of(miss)),
    values = list(cohen.kappa = setNames(lapply(raters, function(r) as.list(pk$cohen.kappa[r, ])), raters),
                  av.kappa = pk$av.kappa, av.wt = pk$av.wt),
    notes = list("cohen.kappa matrix {row: {column: value}}: lower triangle unweighted, upper weighted"))

pkg <- c("psych", "lme4", "jsonlite")
out <- list(
  dataset = "raters_extra",
  description = "rater agreement: ICC with missing ratings (lmer), cohen.kappa variants",
  software = list(R = R.version.string,
                  packages = setNames(lapply(pkg, function(p) as.character(packageVersion(p))), pkg),
                  RNGkind = paste(RNGkind(), collapse = "/"), platform = R.version$platform),
  data_file = "data/rubric_ratings.csv",
  setup = "see tests/reference/r/raters_extra.R",
  generated = format(Sys.Date()),
  n_checks = length(checks),
  checks = checks)
# jsonlite prints at most 15 significant digits: write doubles verbatim with 17 ("%.17g")
full <- function(v) {
  if (is.list(v)) return(lapply(v, full))
  if (is.double(v)) {
    one <- function(z) {
      if (is.na(z)) return(NA)
      if (is.infinite(z)) return(if (z > 0) "Inf" else "-Inf")
      structure(sprintf("%.17g", z), class = "json")
    }
    if (length(v) == 1 && is.null(names(v))) return(one(v))
    return(setNames(lapply(seq_along(v), function(i) one(v[[i]])), names(v)))
  }
  v
}
writeLines(toJSON(full(out), auto_unbox = TRUE, json_verbatim = TRUE, null = "null",
                  na = "null", pretty = TRUE),
           "ref_extra/raters_extra.json")
