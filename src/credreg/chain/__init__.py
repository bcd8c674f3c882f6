"""Everything that talks to, or prepares for, an EVM chain."""
