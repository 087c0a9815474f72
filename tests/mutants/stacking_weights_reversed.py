"""Mutant of stack_weights (02-stacking): [Wax : Waa] instead of [Waa : Wax]."""

import numpy as np

EXPECTED_MISTAKE = "the blocks are in the wrong order: Wa = [Waa : Wax]"


def stack_weights(Waa, Wax):
    return np.concatenate([Wax, Waa], axis=1)  # mistake: reversed
