# lavaan 0.6.14 references for the completed model syntax (issue 23, section 5):
# equality (labels, ==), inequality (<, >), defined parameters (:=), latent regressions,
# intercepts (~ 1), start() and the other modifiers, c() per group, FIML, effects coding.
# Run from tests/reference:  Rscript r/cfa_syntax.R
#   -> data/PoliticalDemocracy.csv (lavaan's copy) and ref_extra/cfa_syntax.json
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
dat <- utils::read.csv("data/HolzingerSwineford1939.csv")
utils::write.csv(PoliticalDemocracy, "data/PoliticalDemocracy.csv", row.names = FALSE)
pd <- utils::read.csv("data/PoliticalDemocracy.csv")

pe_rows <- function(fit) {
  pe <- parameterEstimates(fit, standardized = TRUE)
  if (is.null(pe$group)) pe$group <- 1L
  if (is.null(pe$label)) pe$label <- ""
  lapply(seq_len(nrow(pe)), function(i) list(
    lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i], group = pe$group[i], label = pe$label[i],
    est = pe$est[i], se = pe$se[i], z = pe$z[i], pvalue = pe$pvalue[i],
    std_all = pe$std.all[i]))
}
std_rows <- function(fit) {
  ss <- standardizedSolution(fit)
  lapply(seq_len(nrow(ss)), function(i) list(
    lhs = ss$lhs[i], op = ss$op[i], rhs = ss$rhs[i], est_std = ss$est.std[i], se = ss$se[i]))
}
mi_rows <- function(fit) {
  mi <- modindices(fit, sort. = TRUE, minimum.value = 1)
  lapply(seq_len(nrow(mi)), function(i) list(
    lhs = mi$lhs[i], op = mi$op[i], rhs = mi$rhs[i], mi = mi$mi[i], epc = mi$epc[i]))
}
record <- function(id, call, model, fit, extra = list()) {
  c(list(id = id, call = call, model = model,
         converged = lavInspect(fit, "converged"),
         npar = lavInspect(fit, "npar"),
         fitMeasures = as.list(fitMeasures(fit)),
         parameterEstimates = pe_rows(fit)), extra)
}
checks <- list()

# (a) HS: labels, == between labels, an active and an inactive inequality, := parameters
ma <- "
visual  =~ x1 + l2*x2 + l3*x3
textual =~ x4 + l5*x5 + l6*x6
speed   =~ x7 + l8*x8 + l9*x9
l5 == l6     # equal loadings
l3 < 0.6     # active: the free estimate is .73
l9 > 0       # inactive
vis_sum := 1 + l2 + l3
ratio   := l8 / l9
"
fa <- cfa(ma, data = dat)
checks[[length(checks) + 1]] <- record("hs.constraints", "cfa(ma, data = dat); modindices(fa, minimum.value = 1)", ma, fa,
                                       list(modindices = mi_rows(fa)))

# (a2) HS: == with a number and between labels written both ways, MLR
ma2 <- "
visual  =~ x1 + x2 + x3
textual =~ x4 + a*x5 + b*x6
speed   =~ x7 + c*x8 + d*x9
a == b
d == c
textual ~~ v*textual
v == 1
tot := a + b + c + d
"
fa2 <- cfa(ma2, data = dat, estimator = "MLR")
checks[[length(checks) + 1]] <- record("hs.constraints.mlr", "cfa(ma2, data = dat, estimator = 'MLR')", ma2, fa2)

# (b) PoliticalDemocracy: the full SEM of the lavaan tutorial (latent regressions, correlated
# residuals, loadings equal across time) with labelled regressions and an indirect effect
mb <- "
# measurement model
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8
# regressions
  dem60 ~ p1*ind60
  dem65 ~ p2*ind60 + p3*dem60
# residual correlations
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
# effects
  indirect := p1*p3
  total := p2 + p1*p3
"
fb <- sem(mb, data = pd)
checks[[length(checks) + 1]] <- record("pd.sem", "sem(mb, data = PoliticalDemocracy)", mb, fb,
                                       list(standardizedSolution = std_rows(fb)))
fb2 <- sem(mb, data = pd, estimator = "MLR")
checks[[length(checks) + 1]] <- record("pd.sem.mlr", "sem(mb, data = PoliticalDemocracy, estimator = 'MLR')", mb, fb2)

# (c) intercepts ~ 1 (equal by a label, a start value), NA*, start(), a fixed loading
mc <- "
visual  =~ NA*x1 + start(0.5)*x2 + x3
textual =~ x4 + 1*x5 + x6
speed   =~ x7 + 0.5*x8 + x9
visual ~~ 1*visual
x8 ~ i*1
x9 ~ i*1
x3 ~ start(2)*1
"
fc <- cfa(mc, data = dat)
checks[[length(checks) + 1]] <- record("hs.intercepts", "cfa(mc, data = dat)", mc, fc)

# (d) c() modifiers in two groups (school): a label shared by both groups, a fixed value in
# group 2 only, x8 and x9 equal within each group
md <- "
visual  =~ x1 + c(v2, v2)*x2 + c(NA, 0.6)*x3
textual =~ x4 + x5 + x6
speed   =~ x7 + c(s8, t8)*x8 + c(s8, t8)*x9
"
fd <- cfa(md, data = dat, group = "school")
checks[[length(checks) + 1]] <- record("hs.groups.c", "cfa(md, data = dat, group = 'school')", md, fd)

# (e) (a) with missing responses under FIML (8% MCAR, ref_extra/hs_missing.csv), ML and MLR
hs_mis <- utils::read.csv("ref_extra/hs_missing.csv")
fe <- cfa(ma, data = hs_mis, missing = "ml")
checks[[length(checks) + 1]] <- record("hsmis.constraints.fiml", "cfa(ma, data = hs_missing, missing = 'ml')", ma, fe)
fe2 <- cfa(ma, data = hs_mis, missing = "ml", estimator = "MLR")
checks[[length(checks) + 1]] <- record("hsmis.constraints.fiml.mlr", "cfa(ma, data = hs_missing, missing = 'ml', estimator = 'MLR')", ma, fe2)

# (f) effects coding (loadings averaging 1) and a linear equality between two loadings: linear
# constraints that shared labels cannot express, ML and MLR; then an active linear inequality
mf <- "
visual  =~ NA*x1 + l1*x1 + l2*x2 + l3*x3
textual =~ x4 + x5 + x6
speed   =~ x7 + s8*x8 + s9*x9
l1 + l2 + l3 == 3
s8 - s9 == 0.1
"
ff <- cfa(mf, data = dat)
checks[[length(checks) + 1]] <- record("hs.linear", "cfa(mf, data = dat); modindices(ff, minimum.value = 1)", mf, ff,
                                       list(modindices = mi_rows(ff)))
ff2 <- cfa(mf, data = dat, estimator = "MLR")
checks[[length(checks) + 1]] <- record("hs.linear.mlr", "cfa(mf, data = dat, estimator = 'MLR')", mf, ff2)
mf3 <- paste0(mf, "2*l3 - l2 > 1.2\n")
ff3 <- cfa(mf3, data = dat)
checks[[length(checks) + 1]] <- record("hs.linear.ineq", "cfa(mf3, data = dat)", mf3, ff3)

out <- list(dataset = "HolzingerSwineford1939, PoliticalDemocracy", generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/cfa_syntax.json")
