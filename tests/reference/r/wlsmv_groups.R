# lavaan 0.6.14 references for multi-group ordinal CFA (WLSMV, delta parameterization):
# configural, group.equal = "thresholds" and c("thresholds", "loadings"), and the
# scaled-shifted difference tests (lavTestLRT, method = "satorra.2000") between them.
# Run from tests/reference:  Rscript r/wlsmv_groups.R   -> ref_extra/wlsmv_groups.json
# Data: data/bfi.csv (= psychTools::bfi, row names dropped), raw codes (no reverse keying),
# items A1-A5, C1-C5, gender (1, 2) as the group, listwise deletion (lavaan's default).
suppressMessages(library(lavaan))
suppressMessages(library(jsonlite))
dat <- utils::read.csv("data/bfi.csv")
items <- c(paste0("A", 1:5), paste0("C", 1:5))
d <- dat[, c(items, "gender")]
mod <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
pe_list <- function(pe) {
  lapply(seq_len(nrow(pe)), function(i)
    list(lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i], group = pe$group[i],
         label = pe$label[i], est = pe$est[i], se = pe$se[i]))
}
fits <- list()
checks <- list()
for (eq in list("", "thresholds", c("thresholds", "loadings"))) {
  id <- if (any(nzchar(eq))) paste0("bfi.AC.gender.", paste(eq, collapse = "+")) else
    "bfi.AC.gender.configural"
  fit <- cfa(mod, data = d, ordered = TRUE, estimator = "WLSMV", group = "gender",
             group.equal = eq)
  fits[[id]] <- fit
  ts <- lavInspect(fit, "test")
  checks[[length(checks) + 1]] <- list(
    id = id,
    call = paste0("cfa(mod, data = d, ordered = TRUE, estimator = 'WLSMV', group = 'gender', ",
                  "group.equal = c(", paste0("'", eq, "'", collapse = ", "), "))"),
    model = mod, group_equal = eq,
    values = list(
      nobs = as.list(lavInspect(fit, "nobs")),
      group_labels = lavInspect(fit, "group.label"),
      parameterEstimates = pe_list(parameterEstimates(fit)),
      fitMeasures = as.list(fitMeasures(fit)),
      shift_parameter = ts$scaled.shifted$shift.parameter,
      converged = lavInspect(fit, "converged")))
}
lrt <- function(a, b, id) {
  t <- lavTestLRT(fits[[a]], fits[[b]])
  list(id = id, call = paste0("lavTestLRT(", a, ", ", b, ")  # satorra.2000, scaled.shifted"),
       values = list(chisq_diff = t[["Chisq diff"]][2], df_diff = t[["Df diff"]][2],
                     pvalue = t[["Pr(>Chisq)"]][2], chisq = t[["Chisq"]]))
}
ids <- names(fits)
checks[[length(checks) + 1]] <- lrt(ids[1], ids[3], "lrt.configural_vs_thresholds+loadings")
checks[[length(checks) + 1]] <- lrt(ids[2], ids[3], "lrt.thresholds_vs_thresholds+loadings")
out <- list(dataset = "bfi", generated = as.character(Sys.Date()),
            software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
            checks = checks)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE),
           "ref_extra/wlsmv_groups.json")
