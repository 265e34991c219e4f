# References for four output differences from lavaan 0.6.14 / psych 2.2.9 (modification
# index candidates, zero-df fit measures, zero-df EFA TLI, Schmid-Leiman ultra-Heywood case).
# Run from tests/reference/:  Rscript r/cfa_output_extra.R   -> ref_extra/cfa_output_extra.json
suppressPackageStartupMessages({ library(lavaan); library(psych); library(GPArotation)
                                 library(jsonlite) })

hs <- utils::read.csv("data/HolzingerSwineford1939.csv")
bfi <- utils::read.csv("data/bfi.csv")
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")   # psych's bfi keys: 7 - x
bfi_r <- bfi; bfi_r[rev_items] <- 7 - bfi_r[rev_items]

m_hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
m_bfi2 <- paste("agree =~ A1 + A2 + A3 + A4 + A5", "consc =~ C1 + C2 + C3 + C4 + C5",
                "extra =~ E1 + E2 + E3 + E4 + E5", "neuro =~ N1 + N2 + N3 + N4 + N5",
                "open =~ O1 + O2 + O3 + O4 + O5", "alpha =~ agree + consc + neuro",
                "beta =~ extra + open", sep = "\n")
m_fixcov <- paste(m_hs, "visual ~~ 0*speed", sep = "\n")
m_reg <- paste(m_hs, "speed ~ visual + textual", sep = "\n")
m_agree3 <- "agree =~ A1 + A2 + A3"

key <- function(df) {
  k <- paste0(df$lhs, df$op, df$rhs)
  if (!is.null(df$group) && max(df$group) > 1) k <- paste0(k, ".g", df$group)
  k
}
mi_list <- function(fit) {
  mi <- modindices(fit)   # lavaan's defaults: na.remove = TRUE, free.remove = TRUE
  cols <- c("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")
  out <- lapply(seq_len(nrow(mi)), function(i) as.list(mi[i, cols]))
  names(out) <- key(mi); out
}
est_list <- function(fit) {
  pe <- parameterEstimates(fit)
  out <- lapply(seq_len(nrow(pe)), function(i) list(est = pe$est[i]))
  names(out) <- key(pe); out
}
fm_list <- function(fit) { fm <- fitMeasures(fit); as.list(setNames(as.numeric(fm), names(fm))) }
checks <- list()
add <- function(id, call, options, values, notes = list()) {
  checks[[length(checks) + 1]] <<- list(id = id, call = call, options = options,
                                        values = values, notes = notes)
}
mi_check <- function(id, call, options, fit, notes = list()) {
  n_all <- nrow(modindices(fit, na.remove = FALSE))
  add(id, call, options, list(
    nobs = sum(lavInspect(fit, "nobs")), chisq = fitMeasures(fit, "chisq")[[1]],
    modindices = mi_list(fit), n_candidates = n_all, parameterEstimates = est_list(fit)), notes)
}

# 1. second-order factors on bfi: candidates include the covariance of a first-order factor
#    with a higher-order factor (agree ~~ alpha, MI 42.745)
fit <- cfa(m_bfi2, data = bfi_r)
mi_check("mi.bfi.second_order", "modindices(cfa(m_bfi2, data = bfi_r))",
         list(model = m_bfi2, data = "bfi_r", missing = "listwise"), fit,
         list("bfi with A1, C4, C5, E1, E2, O2, O5 rescored 7 - x",
              "n_candidates: rows of modindices(fit, na.remove = FALSE)"))

# 2. two groups with equal loadings: the fixed marker loadings are candidates in each group
fit <- cfa(m_hs, data = hs, group = "school", group.equal = "loadings")
mi_check("mi.hs.groups.equal_loadings",
         'modindices(cfa(m_hs, data = hs, group = "school", group.equal = "loadings"))',
         list(model = m_hs, data = "hs", group = "school", group_equal = "loadings"), fit,
         list("keys carry .g<group> (lavaan's group order: Pasteur, Grant-White)"))

# 3. a parameter fixed by the user is a candidate (visual ~~ 0*speed)
fit <- cfa(m_fixcov, data = hs)
mi_check("mi.hs.fixed_covariance", "modindices(cfa(m_fixcov, data = hs))",
         list(model = m_fixcov, data = "hs"), fit)

# 4. regressions among factors: lavaan's ~ candidates (all with undefined score tests here)
fit <- cfa(m_reg, data = hs)
mi_check("mi.hs.latent_regression", "modindices(cfa(m_reg, data = hs))",
         list(model = m_reg, data = "hs"), fit)

# 5. std.lv with a mean structure: fixed variances and latent means are candidates (all NA)
fit <- cfa(m_hs, data = hs, std.lv = TRUE, missing = "ml")
mi_check("mi.hs.stdlv.fiml", 'modindices(cfa(m_hs, data = hs, std.lv = TRUE, missing = "ml"))',
         list(model = m_hs, data = "hs", std_lv = TRUE, missing = "ml"), fit)

# 6. just-identified (df = 0) fits with FIML and MLR: every fit measure
zero <- list(
  list(id = "fit.zero_df.ML.fiml", call = 'cfa(m_agree3, data = bfi_r, missing = "ml")',
       options = list(estimator = "ML", missing = "ml"),
       fit = cfa(m_agree3, data = bfi_r, missing = "ml")),
  list(id = "fit.zero_df.MLR.listwise", call = 'cfa(m_agree3, data = bfi_r, estimator = "MLR")',
       options = list(estimator = "MLR", missing = "listwise"),
       fit = cfa(m_agree3, data = bfi_r, estimator = "MLR")),
  list(id = "fit.zero_df.MLR.fiml",
       call = 'cfa(m_agree3, data = bfi_r, estimator = "MLR", missing = "ml")',
       options = list(estimator = "MLR", missing = "ml"),
       fit = cfa(m_agree3, data = bfi_r, estimator = "MLR", missing = "ml")))
for (z in zero) {
  fiml_c <- if (z$options$missing == "ml")
    lavaan:::lav_fit_fiml_corrected(z$fit, version = if (z$options$estimator == "MLR") "V3" else "V6")
  else NULL
  add(z$id, z$call, c(list(model = m_agree3, data = "bfi_r"), z$options),
      list(nobs = sum(lavInspect(z$fit, "nobs")), fitMeasures = fm_list(z$fit),
           parameterEstimates = est_list(z$fit),
           fiml_c_hat3 = if (is.null(fiml_c)) NULL else fiml_c$c.hat3,
           fiml_XX3_scaled = if (is.null(fiml_c)) NULL else fiml_c$XX3.scaled),
      list("fiml_c_hat3: lav_fit_fiml_corrected's c.hat3 = k / df3 with df3 = 0 (k at rounding level)"))
}

# 7. psych::fa with zero degrees of freedom (3 items, 1 factor): TLI = (M0 - Mm)/(M0 - 1/nm)
#    with Mm = objective / 0, so its value is the sign of a rounding-level objective
for (sc in list(c("A1", "A2", "A3"), c("N1", "N2", "N3"))) {
  f <- fa(bfi_r[, sc], nfactors = 1)
  add(paste0("efa.zero_df.", sc[1]), sprintf('psych::fa(bfi_r[, c("%s")], nfactors = 1)',
                                             paste(sc, collapse = '", "')),
      list(items = sc, data = "bfi_r", fm = "minres"),
      list(dof = f$dof, TLI = f$TLI, objective = f$objective, STATISTIC = f$STATISTIC,
           loadings = as.numeric(f$loadings[, 1])))
}

# 8. Schmid-Leiman with a general loading above 1: 9 variables, 3 factors whose
#    correlations (.8, .8, .45) need a g loading of sqrt(.8 * .8 / .45) > 1 for factor 3
L <- matrix(0, 9, 3); L[1:3, 1] <- c(.8, .7, .6); L[4:6, 2] <- c(.8, .7, .6)
L[7:9, 3] <- c(.8, .7, .6)
Phi <- matrix(c(1, .8, .8, .8, 1, .45, .8, .45, 1), 3)
R <- L %*% Phi %*% t(L); diag(R) <- 1
colnames(R) <- rownames(R) <- paste0("V", 1:9)
catch <- function(expr) {
  msgs <- character(0)
  val <- withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(value = val, warnings = msgs)
}
s <- catch(schmid(R, nfactors = 3))
o <- catch(omega(R, nfactors = 3, plot = FALSE))
add("schmid.ultra_heywood", "psych::schmid(R, nfactors = 3); psych::omega(R, nfactors = 3)",
    list(n_factors = 3, fm = "minres", rotate = "oblimin",
         construction = "R = L Phi L' with unit diagonal; L: .8/.7/.6 on each of 3 factors; Phi offdiag F1F2 .8, F1F3 .8, F2F3 .45"),
    list(R = lapply(seq_len(nrow(R)), function(i) as.numeric(R[i, ])),
         gloading = as.numeric(s$value$gloading), phi = lapply(1:3, function(i) as.numeric(s$value$phi[i, ])),
         schmid_warnings = as.list(s$warnings), omega_warnings = as.list(o$warnings),
         omega_h = o$value$omega_h))

out <- list(dataset = "extra",
  description = "modification index candidates, zero-df fit measures (lavaan); zero-df fa TLI, schmid ultra-Heywood (psych)",
  software = list(R = R.version.string, packages = list(
    lavaan = as.character(packageVersion("lavaan")), psych = as.character(packageVersion("psych")),
    GPArotation = as.character(packageVersion("GPArotation")),
    jsonlite = as.character(packageVersion("jsonlite")))),
  generated = as.character(Sys.Date()), n_checks = length(checks), checks = checks)
# jsonlite writes at most 15 significant digits: write every double with 17 instead
full <- function(x) {
  if (is.list(x)) return(lapply(x, full))
  if (is.double(x) && length(x) == 1) {
    if (is.na(x)) return(NULL)
    if (is.infinite(x)) return(if (x > 0) "Inf" else "-Inf")
    return(structure(sprintf("%.17g", x), class = "json"))
  }
  if (is.double(x) && length(x) > 1) return(lapply(as.list(x), full))
  x
}
writeLines(toJSON(full(out), auto_unbox = TRUE, json_verbatim = TRUE, null = "null", na = "null",
                  pretty = FALSE), "ref_extra/cfa_output_extra.json")
cat("wrote", length(checks), "checks\n")
