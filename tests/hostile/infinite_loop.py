"""An answer cell that never finishes."""

while True:
    pass
