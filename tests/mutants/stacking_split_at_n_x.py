"""Mutant of split_weights (02-stacking): the split is made at column n_x instead of n_a."""

EXPECTED_MISTAKE = "split at column n_x instead of n_a"


def split_weights(Wa, n_a):
    n_x = Wa.shape[1] - n_a
    return Wa[:, :n_x], Wa[:, n_x:]  # mistake: n_x where n_a belongs
