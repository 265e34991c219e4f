# R references for issue 9 (item analysis, DIF). Run from tests/reference/:
#   Rscript r/items_extra.R   ->  ref_extra/items_extra.json
# R 4.2, psych 2.2.9, MASS (polr). Values written with full precision (digits = NA).
suppressPackageStartupMessages({ library(psych); library(MASS); library(jsonlite) })
checks <- list()
add <- function(id, call, options, values) {
  checks[[length(checks) + 1]] <<- list(id = id, call = call, options = options, values = values)
}
named <- function(v) as.list(v)

# 1. psych::alpha item statistics on listwise-complete ICAR16 (dichotomous)
ab <- utils::read.csv("data/ability.csv")
icar <- ab[stats::complete.cases(ab), ]
a <- psych::alpha(icar, warnings = FALSE)
add("alpha.ICAR16.listwise", "psych::alpha(ab[complete.cases(ab), ], warnings = FALSE)",
    list(items = names(ab), missing = "listwise"),
    list(raw_alpha = a$total$raw_alpha,
         alpha_drop = named(setNames(a$alpha.drop$raw_alpha, rownames(a$alpha.drop))),
         raw_r = named(setNames(a$item.stats$raw.r, rownames(a$item.stats))),
         r_drop = named(setNames(a$item.stats$r.drop, rownames(a$item.stats))),
         mean = named(setNames(a$item.stats$mean, rownames(a$item.stats))),
         sd = named(setNames(a$item.stats$sd, rownames(a$item.stats)))))

# 2. polytomous: bfi conscientiousness, C4 C5 reversed (7 - x), listwise
bfi <- utils::read.csv("data/bfi.csv")
C <- bfi[, c("C1", "C2", "C3", "C4", "C5")]
C$C4 <- 7 - C$C4; C$C5 <- 7 - C$C5
keep <- stats::complete.cases(C) & !is.na(bfi$gender)
C <- C[keep, ]; gender <- bfi$gender[keep]
a <- psych::alpha(C, warnings = FALSE)
rf <- a$response.freq
add("alpha.C.listwise", "psych::alpha(C, warnings = FALSE)  # C1..C5, C4 C5 as 7-x, complete cases incl. gender",
    list(items = names(C), missing = "listwise (items and gender)", reversed = c("C4", "C5")),
    list(n = nrow(C), raw_alpha = a$total$raw_alpha,
         alpha_drop = named(setNames(a$alpha.drop$raw_alpha, rownames(a$alpha.drop))),
         raw_r = named(setNames(a$item.stats$raw.r, rownames(a$item.stats))),
         r_drop = named(setNames(a$item.stats$r.drop, rownames(a$item.stats))),
         mean = named(setNames(a$item.stats$mean, rownames(a$item.stats))),
         sd = named(setNames(a$item.stats$sd, rownames(a$item.stats))),
         response_freq = lapply(split(as.data.frame(rf), rownames(rf))[rownames(rf)],
                                function(r) as.list(unlist(r)))))

# 3. DIF on the same rows: reference group gender 1, focal gender 2; matching score = total of
#    the five (reversed) items, the studied item included.
score <- rowSums(C)
grp <- as.integer(gender == 2)   # 0 reference, 1 focal
nagel <- function(ll, ll0, n) (1 - exp(2 / n * (ll0 - ll))) / (1 - exp(2 / n * ll0))
mh <- list(); lr <- list(); ol <- list()
for (it in names(C)) {
  y <- as.integer(C[[it]] >= 4)  # dichotomised: 4-6 = 1
  tab <- table(factor(grp, levels = c(0, 1)), factor(y, levels = c(1, 0)), score)
  tab <- tab[, , apply(tab, 3, sum) > 1, drop = FALSE]
  m <- stats::mantelhaen.test(tab, correct = TRUE)
  mh[[it]] <- list(statistic = unname(m$statistic), alpha_mh = unname(m$estimate),
                   ci_lower = m$conf.int[1], ci_upper = m$conf.int[2], p_value = m$p.value)
  f0 <- glm(y ~ score, family = binomial); f1 <- glm(y ~ score + grp, family = binomial)
  f2 <- glm(y ~ score * grp, family = binomial); fn <- glm(y ~ 1, family = binomial)
  ll <- sapply(list(fn, f0, f1, f2), function(f) as.numeric(logLik(f)))
  n <- length(y)
  lr[[it]] <- list(ll_null = ll[1], ll0 = ll[2], ll1 = ll[3], ll2 = ll[4],
                   lr_uniform = 2 * (ll[3] - ll[2]), lr_nonuniform = 2 * (ll[4] - ll[3]),
                   lr_both = 2 * (ll[4] - ll[2]),
                   r2_0 = nagel(ll[2], ll[1], n), r2_1 = nagel(ll[3], ll[1], n),
                   r2_2 = nagel(ll[4], ll[1], n),
                   coef2 = as.list(coef(f2)))
  yo <- factor(C[[it]], ordered = TRUE)
  o0 <- polr(yo ~ score, method = "logistic", control = list(reltol = 1e-14, maxit = 5000)); o1 <- polr(yo ~ score + grp, method = "logistic", control = list(reltol = 1e-14, maxit = 5000))
  o2 <- polr(yo ~ score * grp, method = "logistic", control = list(reltol = 1e-14, maxit = 5000)); on <- polr(yo ~ 1, method = "logistic", control = list(reltol = 1e-14, maxit = 5000))
  llo <- sapply(list(on, o0, o1, o2), function(f) as.numeric(logLik(f)))
  ol[[it]] <- list(ll_null = llo[1], ll0 = llo[2], ll1 = llo[3], ll2 = llo[4],
                   lr_uniform = 2 * (llo[3] - llo[2]), lr_nonuniform = 2 * (llo[4] - llo[3]),
                   lr_both = 2 * (llo[4] - llo[2]),
                   r2_0 = nagel(llo[2], llo[1], n), r2_1 = nagel(llo[3], llo[1], n),
                   r2_2 = nagel(llo[4], llo[1], n))
}
opts <- list(items = names(C), group = "gender", reference = 1, focal = 2,
             match = "total of C1..C5 (C4, C5 reversed), studied item included",
             missing = "listwise (items and gender)")
add("mh.C.dichotomised", "mantelhaen.test(table(group, item >= 4 (1 first), score), correct = TRUE) per item; strata with n <= 1 dropped",
    c(opts, list(dichotomised = "x >= 4 -> 1")), mh)
add("logistic.C.dichotomised", "glm(y ~ score), glm(y ~ score + grp), glm(y ~ score * grp), binomial; Nagelkerke vs glm(y ~ 1)",
    c(opts, list(dichotomised = "x >= 4 -> 1")), lr)
add("polr.C", "MASS::polr(factor(x, ordered=TRUE) ~ score [+ grp [+ score:grp]], method = 'logistic', control = list(reltol = 1e-14, maxit = 5000)); Nagelkerke vs polr(y ~ 1)",
    opts, ol)

# 3b. generalized Mantel-Haenszel over the five education levels (same items and score, rows
#     with education known): R's mantelhaen.test on the 2 x 5 x K table is the generalized
#     Cochran-Mantel-Haenszel statistic (no continuity correction), df = 4
edu <- bfi$education[keep]
ke <- !is.na(edu)
gmh <- list()
for (it in names(C)) {
  y <- as.integer(C[[it]][ke] >= 4)
  tab <- table(factor(y, levels = c(1, 0)), factor(edu[ke]), score[ke])
  tab <- tab[, , apply(tab, 3, sum) > 1, drop = FALSE]
  m <- stats::mantelhaen.test(tab)
  gmh[[it]] <- list(statistic = unname(m$statistic), df = unname(m$parameter),
                    p_value = m$p.value)
}
add("gmh.C.education", "mantelhaen.test(table(item >= 4 (1 first), education, score)) per item; strata with n <= 1 dropped",
    list(items = names(C), group = "education", reference = 1,
         match = "total of C1..C5 (C4, C5 reversed), studied item included",
         missing = "listwise (items and gender), then education known",
         dichotomised = "x >= 4 -> 1"), gmh)

# 3c. biserial / polyserial item-total and item-rest correlations (psych's ad hoc estimators)
icar_total <- rowSums(icar)
bis_t <- psych::biserial(icar_total, icar)
bis_r <- sapply(names(icar), function(it) psych::biserial(icar_total - icar[[it]], icar[[it]]))
add("biserial.ICAR16.listwise", "psych::biserial(rowSums(icar), icar); rest: psych::biserial(rowSums(icar) - icar[[i]], icar[[i]])",
    list(items = names(icar), missing = "listwise"),
    list(total = named(setNames(as.vector(bis_t), names(icar))),
         rest = named(setNames(as.vector(bis_r), names(icar)))))
C_total <- rowSums(C)
ps_t <- psych::polyserial(C_total, C)
ps_r <- sapply(names(C), function(it) psych::polyserial(C_total - C[[it]], C[, it, drop = FALSE]))
add("polyserial.C.listwise", "psych::polyserial(rowSums(C), C); rest: psych::polyserial(rowSums(C) - C[[i]], C[, i, drop = FALSE])",
    list(items = names(C), missing = "listwise (items and gender)", reversed = c("C4", "C5")),
    list(total = named(setNames(as.vector(ps_t), names(C))),
         rest = named(setNames(as.vector(ps_r), names(C)))))

# 4. worked example (Agresti 1990, Categorical Data Analysis, p. 233; R's ?mantelhaen.test):
#    penicillin and rabbits, 2 x 2 x 5
Rabbits <- array(c(0, 0, 6, 5, 3, 0, 3, 6, 6, 2, 0, 4, 5, 6, 1, 0, 2, 5, 0, 0),
                 dim = c(2, 2, 5))
m <- stats::mantelhaen.test(Rabbits)
add("mh.rabbits", "mantelhaen.test(Rabbits)  # correct = TRUE",
    list(table = as.vector(Rabbits), dim = c(2, 2, 5)),
    list(statistic = unname(m$statistic), alpha_mh = unname(m$estimate),
         ci_lower = m$conf.int[1], ci_upper = m$conf.int[2], p_value = m$p.value))

out <- list(dataset = "items_extra",
            description = "issue 9: psych::alpha item statistics on listwise data, MH / logistic / ordinal logistic DIF",
            software = list(R = R.version.string, packages = list(psych = as.character(packageVersion("psych")),
                                                                  MASS = as.character(packageVersion("MASS")))),
            setup = "ab <- read.csv('data/ability.csv'); bfi <- read.csv('data/bfi.csv')",
            generated = as.character(Sys.Date()), n_checks = length(checks), checks = checks)
# full precision: every numeric scalar written with %.17g (reads back as the same double)
full <- function(x) {
  if (is.list(x)) return(lapply(x, full))
  if (is.numeric(x) && length(x) == 1L)
    return(structure(if (is.na(x)) "null" else sprintf("%.17g", x), class = "json"))
  x
}
out$checks <- full(out$checks)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null",
                            pretty = TRUE, json_verbatim = TRUE),
           "ref_extra/items_extra.json")
