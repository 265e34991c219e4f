# Ordinal alpha (Zumbo, Gadermann & Zeisser 2007): alpha of the polychoric correlation matrix,
# k rbar / (1 + (k - 1) rbar), psych 2.2.9's alpha() on lavaan 0.6.14's lavCor(ordered) matrix
# (the two-step polychorics of a WLSMV fit), per factor of the fits in
# tests/reference/r/wlsmv_core.R (bfi A1-A5, C1-C5 as read, listwise) and ability 4 factors.
# Run from tests/reference:  Rscript r/ordinal_alpha.R   -> ref_extra/ordinal_alpha.json
suppressMessages(library(lavaan))
suppressMessages(library(psych))
suppressMessages(library(jsonlite))
alpha_of <- function(d, sets) {
  r <- lavCor(d, ordered = names(d))
  lapply(sets, function(items) {
    a <- psych::alpha(r[items, items], warnings = FALSE)$total
    list(std_alpha = a$std.alpha, raw_alpha = a$raw_alpha)
  })
}
bfi <- utils::read.csv("data/bfi.csv")
items <- c(paste0("A", 1:5), paste0("C", 1:5))
d1 <- na.omit(bfi[, items])
ab <- utils::read.csv("data/ability.csv")
sets2 <- list(reasoning = c("reason.4", "reason.16", "reason.17", "reason.19"),
              letters = c("letter.7", "letter.33", "letter.34", "letter.58"),
              matrix = c("matrix.45", "matrix.46", "matrix.47", "matrix.55"),
              rotate = c("rotate.3", "rotate.4", "rotate.6", "rotate.8"))
d2 <- na.omit(ab[, unlist(sets2)])
checks <- list(
  list(id = "bfi.AC", model = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5",
       data = "bfi", nobs = nrow(d1),
       values = alpha_of(d1, list(A = paste0("A", 1:5), C = paste0("C", 1:5)))),
  list(id = "ability.4f", model = paste(sprintf("%s =~ %s", names(sets2),
                                                sapply(sets2, paste, collapse = " + ")),
                                        collapse = "\n"),
       data = "ability", nobs = nrow(d2), values = alpha_of(d2, sets2)))
out <- list(software = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                            psych = as.character(packageVersion("psych"))),
            checks = checks)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "ref_extra/ordinal_alpha.json")
