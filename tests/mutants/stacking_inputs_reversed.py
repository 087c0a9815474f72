"""Mutant of stack_inputs (02-stacking): [x<t> ; a<t-1>] instead of [a<t-1> ; x<t>]."""

import numpy as np

EXPECTED_MISTAKE = "[a<t-1> ; x<t>]"


def stack_inputs(a_prev, xt):
    return np.concatenate([np.asarray(xt, dtype=a_prev.dtype), a_prev], axis=0)  # mistake
