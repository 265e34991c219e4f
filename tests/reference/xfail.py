"""Reference checks not yet asserted, each with the reason. Features shrink this table."""

XFAIL: dict[str, str] = {
    "ability/omegaSem.16": "empirically unidentified bifactor CFA: group factor F4 (matrix.45, matrix.46, matrix.55) is carried by matrix.45 alone (SL loading .64 vs <=.26), so its loading and residual variance trade off; lavaan stops unconverged with meaningless values (omega.tot 5.89, F4 gR2 449). pv.omega_sem also ends unconverged (after restarts), with a ConvergenceWarning naming the nearly singular direction matrix.45 ~~ matrix.45, F4 =~ matrix.45 (asserted in tests/test_omega.py); the EFA omega of this set passes (ability/omega.16.*)",
}
