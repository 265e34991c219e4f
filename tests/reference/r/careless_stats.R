# Reference values for psychoval's careless-responding statistics (check_data):
# longstring, IRV and Mahalanobis D2, computed with base R on the first 300 rows of the 25
# bfi items (with their NAs). Run from tests/reference:  Rscript r/careless_stats.R
# Definitions (base R; the careless package is not needed):
#   longstring: longest run of identical consecutive answers, NA ends a run (rle) - as
#               careless::longstring; NA for a row with no answers
#   irv:        sd(row, na.rm = TRUE), as careless::irv
#   mahalanobis (complete data): stats::mahalanobis(x, colMeans(x), cov(x)) on complete rows
#   mahalanobis (with missing): each row on its answered items, with colMeans(na.rm = TRUE)
#               and cov(use = "pairwise") of those items; df = number of answered items
dat <- utils::read.csv("data/bfi.csv")
items <- c("A1", "A2", "A3", "A4", "A5", "C1", "C2", "C3", "C4", "C5", "E1", "E2", "E3",
           "E4", "E5", "N1", "N2", "N3", "N4", "N5", "O1", "O2", "O3", "O4", "O5")
x <- as.matrix(dat[1:300, items])
longstring <- apply(x, 1, function(r) {
  if (all(is.na(r))) return(NA_real_)
  runs <- rle(r)            # NA never equals its neighbour: each NA is its own run
  max(runs$lengths[!is.na(runs$values)])
})
irv <- apply(x, 1, sd, na.rm = TRUE)
cc <- stats::complete.cases(x)
xc <- x[cc, ]
d2_complete <- stats::mahalanobis(xc, colMeans(xc), stats::cov(xc))
mu <- colMeans(x, na.rm = TRUE)
S <- stats::cov(x, use = "pairwise")
d2_pairwise <- sapply(seq_len(nrow(x)), function(i) {
  o <- !is.na(x[i, ])
  stats::mahalanobis(x[i, o], mu[o], S[o, o, drop = FALSE])
})
out <- list(
  dataset = "bfi",
  description = "careless-responding statistics on bfi rows 1-300, items A1..O5",
  software = list(R = R.version.string),
  data_file = "data/bfi.csv",
  setup = "dat <- utils::read.csv(\"data/bfi.csv\"); x <- as.matrix(dat[1:300, items])",
  n_checks = 1,
  checks = list(list(
    id = "careless.bfi300",
    analysis = "base R: rle, sd, stats::mahalanobis",
    call = "see tests/reference/r/careless_stats.R",
    options = list(rows = 300, items = items),
    values = list(longstring = unname(longstring), irv = unname(irv),
                  complete_rows = which(cc), mahalanobis_complete = unname(d2_complete),
                  mahalanobis_pairwise = unname(d2_pairwise),
                  mahalanobis_df = unname(rowSums(!is.na(x))))
  ))
)
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE),
           "ref_extra/careless_stats.json")
