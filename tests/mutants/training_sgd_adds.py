"""Mutant of sgd_step (05-training): the gradient added instead of subtracted."""

EXPECTED_MISTAKE = "gradient descent subtracts"


def sgd_step(parameters, gradients, learning_rate):
    return {k: parameters[k] + learning_rate * gradients["d" + k] for k in parameters}  # mistake
